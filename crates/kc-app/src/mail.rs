//! Reminder e-mails: a minimal SMTP client for the mail relay inside the
//! government intranet.
//!
//! The relay takes plain SMTP from hosts of the intranet without signing in
//! and without TLS, so a full mail library would bring much that is never
//! used. What is kept is what makes messages arrive intact and safe: every
//! address is checked before it goes into a command or a header, the subject
//! and body travel encoded (RFC 2047 and base64), so Chinese text passes any
//! relay and no text of the user's can end a header or the message early,
//! and every reply is awaited with a time limit, so a hung relay cannot hold
//! a request forever.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::timeout;

/// How long the relay may take to answer one command.
const REPLY_WAIT: Duration = Duration::from_secs(10);
const DEFAULT_PORT: u16 = 25;
/// RFC 5321 keeps reply lines under 512 bytes; a longer one is not SMTP,
/// and reading it without limit would let a rogue server fill memory.
const MAX_REPLY_LINE: u64 = 4096;
const MAX_REPLY_LINES: usize = 100;
/// Bytes of subject per encoded word: 42 bytes make 56 base64 characters,
/// so that "Subject: " and one word stay within 78 characters a line.
const SUBJECT_WORD_BYTES: usize = 42;
const BODY_LINE: usize = 76;
/// RFC 5322 specials other than '@' and '.': none belongs in the plain
/// addresses the intranet uses, and each could change a command or header.
const SPECIALS: &str = "<>()[]\\,;:\"";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub helo: String,
}

impl SmtpConfig {
    /// Parses "smtp://host[:port]" (port 25 by default); any other scheme or
    /// a missing host is an error with a Chinese message. The name given in
    /// EHLO is the domain of `from`: the host's own name is rarely known in
    /// a deployment, and intranet relays accept the mail domain.
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig, MailError> {
        let bad = || MailError::BadUrl(url.to_string());
        let (scheme, rest) = url.trim().split_once("://").ok_or_else(bad)?;
        if !scheme.eq_ignore_ascii_case("smtp") {
            return Err(bad());
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        // No user name (the relay takes mail without signing in), no path.
        if authority.contains(['@', '/', '?', '#'])
            || authority
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        let (host, port) = match authority.strip_prefix('[') {
            // An IPv6 literal: [::1]:2525.
            Some(rest) => {
                let (host, after) = rest.split_once(']').ok_or_else(bad)?;
                let port = match after {
                    "" => None,
                    after => Some(after.strip_prefix(':').ok_or_else(bad)?),
                };
                (host, port)
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        if host.is_empty() || host.contains(['[', ']']) {
            return Err(bad());
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?,
        };
        check_address(from)?;
        let helo = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        Ok(SmtpConfig {
            host: host.to_string(),
            port,
            from: from.to_string(),
            helo: helo.to_string(),
        })
    }

    /// The server's address as people write it, for messages.
    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The name for EHLO, or a harmless one if the configured name could
    /// break the command line.
    fn helo_name(&self) -> &str {
        if !self.helo.is_empty() && self.helo.chars().all(|c| c.is_ascii_graphic()) {
            &self.helo
        } else {
            "localhost"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("邮件服务器地址“{0}”不正确：应为 smtp://主机[:端口]")]
    BadUrl(String),
    #[error("收件人地址“{0}”不正确")]
    BadAddress(String),
    #[error("无法连接邮件服务器 {addr}")]
    Connect {
        addr: String,
        #[source]
        source: io::Error,
    },
    /// The server's reply, all its lines.
    #[error("邮件服务器拒绝：{0}")]
    Rejected(String),
    #[error("与邮件服务器通信失败")]
    Io(#[from] io::Error),
    #[error("邮件服务器无响应")]
    Timeout,
}

/// Checks an address before it goes into a command or a header: one '@'
/// with something on each side, printable ASCII only (no CR/LF, no spaces)
/// and none of `<>(),;:"[]\`. The error shows control characters escaped,
/// so that a message or a log line cannot be split by them.
fn check_address(addr: &str) -> Result<(), MailError> {
    let ok = addr.len() <= 254
        && addr.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && addr
            .chars()
            .all(|c| c.is_ascii_graphic() && !SPECIALS.contains(c));
    if ok {
        Ok(())
    } else {
        Err(MailError::BadAddress(addr.escape_debug().to_string()))
    }
}

/// Sends one message: EHLO (fall back to HELO if EHLO is refused), MAIL
/// FROM, RCPT TO per recipient, DATA, QUIT. Handles multi-line replies
/// ("250-..." continuation lines). Timeout of 10 s per reply. The Subject is
/// RFC 2047 encoded (=?UTF-8?B?...?=), the body is UTF-8 with
/// Content-Transfer-Encoding: base64 (lines of 76), headers: From, To,
/// Subject, Date (RFC 2822), Message-ID, MIME-Version, Content-Type:
/// text/plain; charset=utf-8. Addresses are checked (one '@', no
/// CR/LF/<>/spaces) to prevent header injection; subject with CR/LF is
/// flattened to spaces.
///
/// A recipient refused by the relay fails the whole message rather than
/// sending it to the others only: a reminder that silently misses someone
/// is worse than one that visibly fails.
pub async fn send(cfg: &SmtpConfig, mail: &Mail) -> Result<(), MailError> {
    send_within(cfg, mail, REPLY_WAIT).await
}

/// [`send`] with the wait for each reply (and for connecting) given.
async fn send_within(cfg: &SmtpConfig, mail: &Mail, wait: Duration) -> Result<(), MailError> {
    // Everything that can be checked is checked before connecting.
    check_address(&cfg.from)?;
    if mail.to.is_empty() {
        return Err(MailError::BadAddress(String::new()));
    }
    for to in &mail.to {
        check_address(to)?;
    }
    let message = compose(cfg, mail, chrono::Local::now().fixed_offset());

    let addr = cfg.address();
    let stream = match timeout(wait, TcpStream::connect((cfg.host.as_str(), cfg.port))).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(source)) => return Err(MailError::Connect { addr, source }),
        Err(_) => {
            let source = io::Error::new(io::ErrorKind::TimedOut, "连接超时");
            return Err(MailError::Connect { addr, source });
        }
    };
    let (reader, writer) = stream.into_split();
    let mut session = Session {
        reader: BufReader::new(reader),
        writer,
        wait,
    };
    let result = dialogue(&mut session, cfg, mail, &message).await;
    if matches!(result, Err(MailError::Rejected(_))) {
        // The relay is still listening: take leave properly. Whether that
        // works changes nothing for the caller.
        let _ = session.write(b"QUIT\r\n").await;
    }
    result
}

async fn dialogue(
    s: &mut Session,
    cfg: &SmtpConfig,
    mail: &Mail,
    message: &str,
) -> Result<(), MailError> {
    expect(s.reply().await?, &[220])?;
    let helo = cfg.helo_name();
    match s.command(&format!("EHLO {helo}"), &[250]).await {
        Ok(_) => {}
        // Old relays know only HELO.
        Err(MailError::Rejected(_)) => {
            s.command(&format!("HELO {helo}"), &[250]).await?;
        }
        Err(e) => return Err(e),
    }
    s.command(&format!("MAIL FROM:<{}>", cfg.from), &[250])
        .await?;
    for to in &mail.to {
        s.command(&format!("RCPT TO:<{to}>"), &[250, 251]).await?;
    }
    s.command("DATA", &[354]).await?;
    s.write(dot_stuff(message).as_bytes()).await?;
    s.command(".", &[250]).await?;
    // The relay has taken the message; a failed goodbye changes nothing.
    let _ = s.command("QUIT", &[221]).await;
    Ok(())
}

struct Session {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    wait: Duration,
}

impl Session {
    async fn write(&mut self, data: &[u8]) -> Result<(), MailError> {
        timeout(self.wait, self.writer.write_all(data))
            .await
            .map_err(|_| MailError::Timeout)??;
        Ok(())
    }

    async fn reply(&mut self) -> Result<Reply, MailError> {
        timeout(self.wait, read_reply(&mut self.reader))
            .await
            .map_err(|_| MailError::Timeout)?
    }

    /// Sends a command line and reads its reply; a code not in `ok` is a
    /// refusal.
    async fn command(&mut self, line: &str, ok: &[u16]) -> Result<Reply, MailError> {
        self.write(format!("{line}\r\n").as_bytes()).await?;
        expect(self.reply().await?, ok)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Reply {
    code: u16,
    /// All lines of the reply, joined by spaces.
    text: String,
}

fn expect(reply: Reply, ok: &[u16]) -> Result<Reply, MailError> {
    if ok.contains(&reply.code) {
        Ok(reply)
    } else {
        Err(MailError::Rejected(reply.text))
    }
}

fn protocol_error(what: String) -> MailError {
    MailError::Io(io::Error::new(io::ErrorKind::InvalidData, what))
}

/// Reads one reply: lines "250-..." go on, the line "250 ..." (or "250")
/// ends it.
async fn read_reply<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Reply, MailError> {
    let mut lines = Vec::new();
    loop {
        let mut raw = Vec::new();
        let n = (&mut *reader)
            .take(MAX_REPLY_LINE)
            .read_until(b'\n', &mut raw)
            .await?;
        if n == 0 {
            let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "邮件服务器断开了连接");
            return Err(MailError::Io(eof));
        }
        let line = String::from_utf8_lossy(&raw).trim_end().to_string();
        if !raw.ends_with(b"\n") && n as u64 == MAX_REPLY_LINE {
            return Err(protocol_error(format!("邮件服务器的应答过长：{line:.80}")));
        }
        let code = line
            .get(..3)
            .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else {
            return Err(protocol_error(format!(
                "无法理解邮件服务器的应答：{line:.80}"
            )));
        };
        let more = line.as_bytes().get(3) == Some(&b'-');
        lines.push(line);
        if !more {
            return Ok(Reply {
                code,
                text: lines.join(" "),
            });
        }
        if lines.len() >= MAX_REPLY_LINES {
            return Err(protocol_error("邮件服务器的应答行数过多".to_string()));
        }
    }
}

/// Distinguishes Message-IDs made in the same microsecond.
static MESSAGE_SEQ: AtomicU64 = AtomicU64::new(0);

/// The message as sent after DATA, with CRLF line ends. No line can begin
/// with "." (headers begin with their name, folded lines with a space, the
/// body is base64), and [`dot_stuff`] guards it anyway.
fn compose(cfg: &SmtpConfig, mail: &Mail, now: DateTime<FixedOffset>) -> String {
    let domain = cfg.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let seq = MESSAGE_SEQ.fetch_add(1, Ordering::Relaxed);
    let message_id = format!(
        "<{}.{}.{seq}@{domain}>",
        now.timestamp_micros(),
        std::process::id()
    );
    let headers = [
        ("From", cfg.from.clone()),
        // One address a line keeps long lists within line limits.
        ("To", mail.to.join(",\r\n ")),
        ("Subject", encode_subject(&mail.subject)),
        ("Date", now.to_rfc2822()),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0".to_string()),
        ("Content-Type", "text/plain; charset=utf-8".to_string()),
        ("Content-Transfer-Encoding", "base64".to_string()),
    ];
    let mut out = String::new();
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&encode_body(&mail.body));
    out
}

/// The subject as RFC 2047 encoded words, folded one word a line. Control
/// characters (CR and LF above all) become spaces. Words split between
/// characters, never inside one, as RFC 2047 asks; decoders join adjacent
/// words without the folding space.
fn encode_subject(subject: &str) -> String {
    let flat: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in flat.chars() {
        if chunk.len() + c.len_utf8() > SUBJECT_WORD_BYTES {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
    }
    words.join("\r\n ")
}

/// The body in base64, lines of 76. Text is put in canonical form first:
/// MIME wants CRLF line ends in text before it is encoded.
fn encode_body(body: &str) -> String {
    let canonical = body
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n");
    let encoded = STANDARD.encode(canonical);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / BODY_LINE * 2 + 2);
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % BODY_LINE == 0 {
            out.push_str("\r\n");
        }
        out.push(c);
    }
    if !out.is_empty() {
        out.push_str("\r\n");
    }
    out
}

/// Doubles a leading "." on every line, so that no line of the message
/// reads as its end (RFC 5321 4.5.2).
fn dot_stuff(message: &str) -> String {
    message
        .split("\r\n")
        .map(|line| {
            if line.starts_with('.') {
                format!(".{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A fake SMTP relay for tests, here and in other crates' tests (kc-web's
/// integration tests send reminders to it). It is compiled always because
/// other crates' tests cannot see `cfg(test)` items.
pub mod testing {
    use std::io;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc::{self, UnboundedReceiver};

    /// A message as the relay received it, subject and body decoded (the
    /// body with "\n" line ends, as it was written).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ReceivedMail {
        pub from: String,
        pub to: Vec<String>,
        pub subject: String,
        pub body: String,
    }

    /// Starts a relay on 127.0.0.1 that accepts every message, on any
    /// number of connections. Returns its port and the messages received.
    pub async fn listener() -> (u16, UnboundedReceiver<ReceivedMail>) {
        spawn(Script::default(), |d| d.mail).await
    }

    /// How the relay behaves; the unit tests vary it.
    #[derive(Debug, Clone, Copy, Default)]
    pub(crate) struct Script {
        pub(crate) refuse_ehlo: bool,
        pub(crate) refuse_rcpt: bool,
        /// Accept connections and never say a word.
        pub(crate) silent: bool,
    }

    /// A message with the conversation that brought it.
    // The conversation is read by this module's unit tests only.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) struct Delivery {
        pub(crate) mail: ReceivedMail,
        /// The command lines, in order, without CRLF.
        pub(crate) commands: Vec<String>,
        /// The DATA text, un-stuffed, without the final ".".
        pub(crate) data: String,
    }

    pub(crate) async fn spawn<T: Send + 'static>(
        script: Script,
        map: fn(Delivery) -> T,
    ) -> (u16, UnboundedReceiver<T>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the test relay needs a local port");
        let port = listener.local_addr().expect("a bound address").port();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                if tx.is_closed() {
                    break;
                }
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, script, |d| {
                        let _ = tx.send(map(d));
                    })
                    .await;
                });
            }
        });
        (port, rx)
    }

    /// One connection. A message is delivered before its "250" goes out,
    /// so it is in the channel by the time the client's `send` returns.
    async fn serve(
        socket: TcpStream,
        script: Script,
        deliver: impl Fn(Delivery),
    ) -> io::Result<()> {
        if script.silent {
            let _hold = socket;
            return std::future::pending().await;
        }
        let (reader, mut writer) = socket.into_split();
        let mut reader = BufReader::new(reader);
        writer.write_all(b"220 kechuang-test ESMTP\r\n").await?;
        let mut commands = Vec::new();
        let (mut from, mut to) = (String::new(), Vec::new());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end().to_string();
            commands.push(line.clone());
            let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
            let reply = match verb.as_str() {
                "EHLO" if script.refuse_ehlo => "502 5.5.2 Error: command not recognized".into(),
                "EHLO" => "250-kechuang-test\r\n250-SIZE 10240000\r\n250 8BITMIME".into(),
                "HELO" => "250 kechuang-test".into(),
                "MAIL" => {
                    from = between_angles(&line);
                    "250 2.1.0 Ok".into()
                }
                "RCPT" if script.refuse_rcpt => format!(
                    "550 5.1.1 <{}>: Recipient address rejected: User unknown",
                    between_angles(&line)
                ),
                "RCPT" => {
                    to.push(between_angles(&line));
                    "250 2.1.5 Ok".into()
                }
                "DATA" => {
                    writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let data = read_data(&mut reader).await?;
                    let (subject, body) = decode_message(&data);
                    let mail = ReceivedMail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        subject,
                        body,
                    };
                    deliver(Delivery {
                        mail,
                        commands: commands.clone(),
                        data,
                    });
                    "250 2.0.0 Ok: queued".into()
                }
                "QUIT" => {
                    writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                    return Ok(());
                }
                _ => "502 5.5.2 Error: command not recognized".to_string(),
            };
            writer.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }

    fn between_angles(line: &str) -> String {
        line.split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(addr, _)| addr.to_string())
            .unwrap_or_default()
    }

    /// The lines after DATA up to the lone ".", with leading dots un-doubled.
    async fn read_data<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<String> {
        let mut data = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if line == ".\r\n" {
                return Ok(data);
            }
            data.push_str(line.strip_prefix('.').unwrap_or(&line));
        }
    }

    /// The decoded subject and body of a message; what cannot be decoded
    /// is returned as it came.
    pub(crate) fn decode_message(data: &str) -> (String, String) {
        let (head, body) = data.split_once("\r\n\r\n").unwrap_or((data, ""));
        let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let header = |name: &str| {
            head.split("\r\n").find_map(|line| {
                let (n, value) = line.split_once(':')?;
                n.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let subject = decode_words(&header("Subject").unwrap_or_default());
        let base64 =
            header("Content-Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("base64"));
        let body = if base64 {
            let compact: String = body.split_whitespace().collect();
            match STANDARD.decode(compact) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).replace("\r\n", "\n"),
                Err(_) => body.to_string(),
            }
        } else {
            body.replace("\r\n", "\n")
        };
        (subject, body)
    }

    /// Decodes "=?UTF-8?B?...?=" words; the space between two encoded
    /// words does not count (RFC 2047 6.2).
    fn decode_words(value: &str) -> String {
        let mut out = Vec::new();
        let mut last_encoded = false;
        for (i, token) in value.split_whitespace().enumerate() {
            let decoded = token
                .get(..10)
                .filter(|p| p.eq_ignore_ascii_case("=?UTF-8?B?"))
                .and_then(|_| token.get(10..)?.strip_suffix("?="))
                .and_then(|b| STANDARD.decode(b).ok());
            if i > 0 && !(last_encoded && decoded.is_some()) {
                out.push(b' ');
            }
            last_encoded = decoded.is_some();
            out.extend(decoded.unwrap_or_else(|| token.as_bytes().to_vec()));
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{self, Delivery, ReceivedMail, Script};
    use super::*;
    use tokio::sync::mpsc::UnboundedReceiver;

    const FROM: &str = "kechuang@kjj.bengbu.gov.cn";

    fn config(port: u16) -> SmtpConfig {
        SmtpConfig::parse(&format!("smtp://127.0.0.1:{port}"), FROM).unwrap()
    }

    fn reminder(to: &[&str]) -> Mail {
        Mail {
            to: to.iter().map(|s| s.to_string()).collect(),
            subject: "【提醒】请于 7 月 10 日前填报 2025 年第二季度科技计划监测数据".into(),
            body: "各位同志：\n\n请登录科创监测系统，填报本单位 2025 年第二季度的监测数据。\n\
                   逾期未报的指标将在季度通报中列出。\n\n蚌埠市科学技术局\n"
                .into(),
        }
    }

    async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the relay received nothing")
            .expect("the relay stopped")
    }

    #[tokio::test]
    async fn delivers_to_two_recipients_with_chinese_subject_and_body() {
        let (port, mut rx) = testing::spawn(Script::default(), |d: Delivery| d).await;
        let mail = reminder(&["zhangsan@kjj.bengbu.gov.cn", "lisi@fgw.bengbu.gov.cn"]);
        send(&config(port), &mail).await.unwrap();
        let got = next(&mut rx).await;

        assert_eq!(got.commands[0], "EHLO kjj.bengbu.gov.cn");
        assert_eq!(got.commands[1], "MAIL FROM:<kechuang@kjj.bengbu.gov.cn>");
        assert!(
            got.commands
                .contains(&"RCPT TO:<zhangsan@kjj.bengbu.gov.cn>".to_string())
        );
        assert!(
            got.commands
                .contains(&"RCPT TO:<lisi@fgw.bengbu.gov.cn>".to_string())
        );
        assert_eq!(got.mail.to, mail.to);
        assert_eq!(got.mail.subject, mail.subject);
        assert_eq!(got.mail.body, mail.body);

        let head = got.data.split("\r\n\r\n").next().unwrap();
        for header in [
            "From: kechuang@kjj.bengbu.gov.cn",
            "To: zhangsan@kjj.bengbu.gov.cn,\r\n lisi@fgw.bengbu.gov.cn",
            "Subject: =?UTF-8?B?",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Message-ID: <",
        ] {
            assert!(head.contains(header), "{header} missing in\n{head}");
        }
        let date = head
            .split("\r\n")
            .find_map(|l| l.strip_prefix("Date: "))
            .expect("a Date header");
        assert!(DateTime::parse_from_rfc2822(date).is_ok(), "{date}");
        assert!(got.data.is_ascii());
        assert!(got.data.split("\r\n").all(|l| l.len() <= 78));
        let body_lines: Vec<&str> = got.data.split("\r\n\r\n").nth(1).unwrap().lines().collect();
        assert!(body_lines.len() > 1 && body_lines[0].len() == 76);
    }

    #[tokio::test]
    async fn falls_back_to_helo_when_ehlo_is_refused() {
        let script = Script {
            refuse_ehlo: true,
            ..Script::default()
        };
        let (port, mut rx) = testing::spawn(script, |d: Delivery| d).await;
        send(&config(port), &reminder(&["a@b.cn"])).await.unwrap();
        let got = next(&mut rx).await;
        assert_eq!(
            got.commands[..2],
            ["EHLO kjj.bengbu.gov.cn", "HELO kjj.bengbu.gov.cn"]
        );
        assert_eq!(got.mail.to, ["a@b.cn"]);
    }

    #[tokio::test]
    async fn refused_recipient_is_rejected_with_the_server_reply() {
        let script = Script {
            refuse_rcpt: true,
            ..Script::default()
        };
        let (port, _rx) = testing::spawn(script, |d: Delivery| d).await;
        let err = send(&config(port), &reminder(&["nobody@b.cn"]))
            .await
            .unwrap_err();
        let MailError::Rejected(reply) = &err else {
            panic!("expected Rejected, got {err:?}");
        };
        assert!(reply.contains("550"), "{reply}");
        assert!(err.to_string().starts_with("邮件服务器拒绝：550"));
    }

    #[tokio::test]
    async fn closed_port_is_a_connect_error() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = send(&config(port), &reminder(&["a@b.cn"]))
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::Connect { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("无法连接邮件服务器 127.0.0.1:{port}")
        );
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let script = Script {
            silent: true,
            ..Script::default()
        };
        let (port, _rx) = testing::spawn(script, |d: Delivery| d).await;
        let started = std::time::Instant::now();
        let err = send_within(
            &config(port),
            &reminder(&["a@b.cn"]),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, MailError::Timeout), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn bad_addresses_are_refused_before_connecting() {
        // Port 1: nothing listens there, and nothing must be tried.
        let cfg = SmtpConfig {
            port: 1,
            ..config(25)
        };
        for bad in [
            "a@b.cn\r\nBcc: spy@evil.cn",
            "a@b.cn\n",
            "",
            "no-at-sign",
            "a@@b.cn",
            "a@b@c.cn",
            "@b.cn",
            "a@",
            "a b@c.cn",
            "<a@b.cn>",
            "a@b.cn>\r\nDATA",
            "a@b.cn,c@d.cn",
            "张三@b.cn",
        ] {
            let err = send(&cfg, &reminder(&["ok@b.cn", bad])).await.unwrap_err();
            assert!(matches!(err, MailError::BadAddress(_)), "{bad:?}: {err:?}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let err = send(&cfg, &reminder(&[])).await.unwrap_err();
        assert!(matches!(err, MailError::BadAddress(_)), "{err:?}");
        let cfg = SmtpConfig {
            from: "x@y.cn\r\nRCPT TO:<spy@evil.cn>".into(),
            ..cfg
        };
        let err = send(&cfg, &reminder(&["ok@b.cn"])).await.unwrap_err();
        assert!(matches!(err, MailError::BadAddress(_)), "{err:?}");
    }

    #[test]
    fn subject_line_breaks_are_flattened() {
        let mail = Mail {
            subject: "请填报\r\nBcc: spy@evil.cn".into(),
            ..reminder(&["a@b.cn"])
        };
        let text = compose(&config(25), &mail, chrono::Local::now().fixed_offset());
        assert!(!text.split("\r\n").any(|l| l.starts_with("Bcc")));
        assert_eq!(testing::decode_message(&text).0, "请填报  Bcc: spy@evil.cn");
    }

    #[test]
    fn long_subject_is_folded_into_short_encoded_words() {
        let subject =
            "关于开展2025年度蚌埠市科技计划项目绩效评价和监测数据核查工作的通知".repeat(4);
        let mail = Mail {
            subject: subject.clone(),
            ..reminder(&["a@b.cn"])
        };
        let text = compose(&config(25), &mail, chrono::Local::now().fixed_offset());
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(head.split("\r\n").all(|l| l.len() <= 78), "{head}");
        assert!(
            head.split("\r\n")
                .filter(|l| l.starts_with(" =?UTF-8?B?"))
                .count()
                > 3
        );
        assert_eq!(testing::decode_message(&text).0, subject);
    }

    #[test]
    fn empty_subject_and_body() {
        let mail = Mail {
            to: vec!["a@b.cn".into()],
            subject: String::new(),
            body: String::new(),
        };
        let text = compose(&config(25), &mail, chrono::Local::now().fixed_offset());
        assert!(text.ends_with("\r\n\r\n"));
        assert_eq!(
            testing::decode_message(&text),
            (String::new(), String::new())
        );
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n");
        assert_eq!(dot_stuff(".\r\n"), "..\r\n");
    }

    #[tokio::test]
    async fn replies_over_several_lines() {
        let mut input: &[u8] = b"250-first\r\n250-second\r\n250 last\r\n354 go\r\n";
        let reply = read_reply(&mut input).await.unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(reply.text, "250-first 250-second 250 last");
        assert_eq!(read_reply(&mut input).await.unwrap().code, 354);
        assert!(matches!(
            read_reply(&mut input).await,
            Err(MailError::Io(_))
        ));

        let mut bare: &[u8] = b"250\r\n";
        assert_eq!(read_reply(&mut bare).await.unwrap().code, 250);
        for garbage in [&b"hello\r\n"[..], b"25\r\n", b"250-cut off"] {
            let mut input = garbage;
            let result = read_reply(&mut input).await;
            assert!(matches!(result, Err(MailError::Io(_))), "{garbage:?}");
        }
        let long = vec![b'x'; 10_000];
        let mut input = &long[..];
        assert!(matches!(
            read_reply(&mut input).await,
            Err(MailError::Io(_))
        ));
    }

    #[tokio::test]
    async fn listener_helper_takes_any_number_of_messages() {
        let (port, mut rx) = testing::listener().await;
        let cfg = config(port);
        let first = reminder(&["a@b.cn", "c@d.cn"]);
        let second = Mail {
            subject: "第二封".into(),
            body: "正文\r\n第二行".into(),
            to: vec!["e@f.cn".into()],
        };
        send(&cfg, &first).await.unwrap();
        send(&cfg, &second).await.unwrap();
        assert_eq!(
            next(&mut rx).await,
            ReceivedMail {
                from: FROM.into(),
                to: first.to.clone(),
                subject: first.subject.clone(),
                body: first.body.clone(),
            }
        );
        let got = next(&mut rx).await;
        assert_eq!(
            (got.subject.as_str(), got.body.as_str()),
            ("第二封", "正文\n第二行")
        );
    }

    #[test]
    fn parse_config() {
        let ok = |url: &str| SmtpConfig::parse(url, FROM).map(|c| (c.host, c.port));
        assert_eq!(
            ok("smtp://mail.bengbu.gov.cn").unwrap(),
            ("mail.bengbu.gov.cn".into(), 25)
        );
        assert_eq!(
            ok("smtp://10.1.2.3:2525").unwrap(),
            ("10.1.2.3".into(), 2525)
        );
        assert_eq!(ok(" SMTP://relay:587/ ").unwrap(), ("relay".into(), 587));
        assert_eq!(ok("smtp://[::1]:2525").unwrap(), ("::1".into(), 2525));
        assert_eq!(ok("smtp://[fd00::25]").unwrap(), ("fd00::25".into(), 25));
        let cfg = SmtpConfig::parse("smtp://relay", FROM).unwrap();
        assert_eq!(cfg.from, FROM);
        assert_eq!(cfg.helo, "kjj.bengbu.gov.cn");
        assert_eq!(cfg.address(), "relay:25");
        assert_eq!(
            SmtpConfig::parse("smtp://[::1]:2525", FROM)
                .unwrap()
                .address(),
            "[::1]:2525"
        );

        for bad in [
            "",
            "mail.bengbu.gov.cn",
            "http://mail.bengbu.gov.cn",
            "smtps://mail.bengbu.gov.cn",
            "smtp://",
            "smtp://:25",
            "smtp://relay:",
            "smtp://relay:0",
            "smtp://relay:99999",
            "smtp://relay:abc",
            "smtp://user:pw@relay",
            "smtp://relay/path",
            "smtp://re lay",
            "smtp://[::1",
            "smtp://[::1]x",
            "smtp://a:b:c",
        ] {
            let err = SmtpConfig::parse(bad, FROM).unwrap_err();
            assert!(
                matches!(&err, MailError::BadUrl(u) if u == bad),
                "{bad:?}: {err:?}"
            );
        }
        assert_eq!(
            SmtpConfig::parse("ftp://x", FROM).unwrap_err().to_string(),
            "邮件服务器地址“ftp://x”不正确：应为 smtp://主机[:端口]"
        );
        let err = SmtpConfig::parse("smtp://relay", "not an address").unwrap_err();
        assert!(matches!(err, MailError::BadAddress(_)), "{err:?}");
    }
}
