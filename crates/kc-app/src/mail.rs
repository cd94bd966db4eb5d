//! Reminder e-mails over SMTP, sent with `lettre` to the mail relay inside
//! the government intranet.
//!
//! The relay takes plain SMTP from hosts of the intranet without signing in
//! and without TLS. What this module adds to lettre is what the reminders
//! need: the relay's address as the deployment writes it (`smtp://host[:port]`),
//! every address checked before it goes into a command or a header (with a
//! Chinese message), the subject flattened to one line, the body always in
//! base64 (so Chinese text passes any relay), a time limit on the whole
//! delivery, and errors in words an administrator can act on.
//!
//! Connections are pooled per [`SmtpConfig`] (and its clones): a reminder
//! run that mails many people reuses one connection to the relay.

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// How long connecting to the relay may take; the whole delivery of one
/// message may take [`WHOLE_MESSAGE`] times as long.
const REPLY_WAIT: Duration = Duration::from_secs(10);
/// lettre limits connecting only; a relay that accepts and then hangs is
/// cut off by this limit on the whole conversation.
const WHOLE_MESSAGE: u32 = 3;
const DEFAULT_PORT: u16 = 25;
/// RFC 5322 specials other than '@' and '.': none belongs in the plain
/// addresses the intranet uses, and each could change a command or header.
const SPECIALS: &str = "<>()[]\\,;:\"";

type Transport = AsyncSmtpTransport<Tokio1Executor>;

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub helo: String,
    /// The connection pool, made on the first message for the values above
    /// (and made anew should they have been changed since).
    pool: Arc<OnceLock<(PoolKey, Transport)>>,
}

/// What a pool was made for.
type PoolKey = (String, u16, String, Duration);

impl PartialEq for SmtpConfig {
    fn eq(&self, other: &Self) -> bool {
        (&self.host, self.port, &self.from, &self.helo)
            == (&other.host, other.port, &other.from, &other.helo)
    }
}

impl Eq for SmtpConfig {}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("helo", &self.helo)
            .finish_non_exhaustive()
    }
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
            pool: Arc::default(),
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

    /// The pooled transport for the current settings: plain SMTP (no TLS,
    /// no AUTH), `wait` to connect.
    fn transport(&self, wait: Duration) -> Transport {
        let key: PoolKey = (
            self.host.clone(),
            self.port,
            self.helo_name().to_string(),
            wait,
        );
        let make = || {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str())
                .port(self.port)
                .hello_name(ClientId::Domain(self.helo_name().to_string()))
                .timeout(Some(wait))
                .build()
        };
        match self.pool.get_or_init(|| (key.clone(), make())) {
            (made_for, transport) if *made_for == key => transport.clone(),
            // The fields were changed after the pool was made.
            _ => make(),
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
    /// The server's reply: its code and all its lines.
    #[error("邮件服务器拒绝：{0}")]
    Rejected(String),
    #[error("与邮件服务器通信失败")]
    Io(#[from] io::Error),
    #[error("邮件服务器无响应")]
    Timeout,
}

impl MailError {
    /// A lettre error after the connection was made.
    fn from_smtp(e: lettre::transport::smtp::Error) -> MailError {
        match e.status() {
            Some(code) => {
                let text = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                MailError::Rejected(format!("{code} {text}").trim_end().to_string())
            }
            None if e.is_timeout() => MailError::Timeout,
            None => MailError::Io(io::Error::other(e)),
        }
    }
}

/// Checks an address before it goes into a command or a header: one '@'
/// with something on each side, printable ASCII only (no CR/LF, no spaces)
/// and none of `<>(),;:"[]\`, and an address lettre takes too. The error
/// shows control characters escaped, so that a message or a log line cannot
/// be split by them.
fn check_address(addr: &str) -> Result<Address, MailError> {
    let ok = addr.len() <= 254
        && addr.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && addr
            .chars()
            .all(|c| c.is_ascii_graphic() && !SPECIALS.contains(c));
    ok.then(|| addr.parse::<Address>().ok())
        .flatten()
        .ok_or_else(|| MailError::BadAddress(addr.escape_debug().to_string()))
}

/// Sends one message to every recipient: From, To, Subject (RFC 2047 encoded
/// by lettre when not ASCII; control characters, CR/LF above all, flattened
/// to spaces), Date, Message-ID, MIME-Version, Content-Type: text/plain;
/// charset=utf-8, the body in base64. Addresses are checked before anything
/// is sent. Connecting may take 10 s, the whole delivery 30 s.
///
/// A recipient refused by the relay fails the whole message rather than
/// sending it to the others only: a reminder that silently misses someone
/// is worse than one that visibly fails.
pub async fn send(cfg: &SmtpConfig, mail: &Mail) -> Result<(), MailError> {
    send_within(cfg, mail, REPLY_WAIT).await
}

/// [`send`] with the wait for connecting given (the whole delivery may take
/// [`WHOLE_MESSAGE`] times as long).
async fn send_within(cfg: &SmtpConfig, mail: &Mail, wait: Duration) -> Result<(), MailError> {
    // Everything that can be checked is checked before connecting.
    let message = compose(cfg, mail)?;
    let transport = cfg.transport(wait);
    let delivery = async {
        // Connecting (and the greeting and EHLO) first, on its own, so that
        // an unreachable relay is told apart from one that fails later.
        if let Err(e) = transport.test_connection().await {
            return Err(match e.status() {
                Some(_) => MailError::from_smtp(e),
                None => MailError::Connect {
                    addr: cfg.address(),
                    source: io::Error::other(e),
                },
            });
        }
        // lettre hands a connection back to its pool in a task of its own:
        // let that run each time, so that the message, and the next one,
        // go over the same connection instead of opening another.
        tokio::task::yield_now().await;
        let sent = transport.send(message).await;
        tokio::task::yield_now().await;
        sent.map(drop).map_err(MailError::from_smtp)
    };
    tokio::time::timeout(wait * WHOLE_MESSAGE, delivery)
        .await
        .map_err(|_| MailError::Timeout)?
}

/// The message, built by lettre after the addresses are checked.
fn compose(cfg: &SmtpConfig, mail: &Mail) -> Result<Message, MailError> {
    let from = check_address(&cfg.from)?;
    if mail.to.is_empty() {
        return Err(MailError::BadAddress(String::new()));
    }
    let mut builder = Message::builder()
        .from(Mailbox::new(None, from))
        .subject(flatten(&mail.subject))
        .date_now()
        .message_id(Some(message_id(cfg)))
        .header(lettre::message::header::MIME_VERSION_1_0);
    for to in &mail.to {
        builder = builder.to(Mailbox::new(None, check_address(to)?));
    }
    let body = Body::new_with_encoding(mail.body.clone(), ContentTransferEncoding::Base64)
        .map_err(|_| io::Error::other("正文无法编码"))?;
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Io(io::Error::other(e)))
}

/// A Message-ID in the sender's mail domain: 128 random bits.
fn message_id(cfg: &SmtpConfig) -> String {
    let domain = cfg.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let mut random = [0u8; 16];
    // Should the generator fail, the zeros still make a valid (if not
    // unique) ID; the relay does not depend on it.
    let _ = getrandom::getrandom(&mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{domain}>")
}

/// The subject on one line: control characters (CR and LF above all)
/// become spaces.
fn flatten(subject: &str) -> String {
    subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::testing::{self, Delivery, ReceivedMail, Script};
    use super::*;
    use chrono::DateTime;
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

    /// The message as lettre writes it after DATA.
    fn formatted(mail: &Mail) -> String {
        String::from_utf8(compose(&config(25), mail).unwrap().formatted()).unwrap()
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
        assert!(
            got.commands
                .contains(&"MAIL FROM:<kechuang@kjj.bengbu.gov.cn>".to_string()),
            "{:?}",
            got.commands
        );
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
        let unfolded = head.replace("\r\n ", " ");
        let lower = unfolded.to_ascii_lowercase();
        for header in [
            "from: kechuang@kjj.bengbu.gov.cn",
            "to: zhangsan@kjj.bengbu.gov.cn, lisi@fgw.bengbu.gov.cn",
            "subject: =?utf-8?b?",
            "mime-version: 1.0",
            "content-type: text/plain; charset=utf-8",
            "content-transfer-encoding: base64",
            "message-id: <",
        ] {
            assert!(lower.contains(header), "{header} missing in\n{head}");
        }
        let date = unfolded
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
    async fn refused_ehlo_is_rejected_with_the_server_reply() {
        // lettre speaks ESMTP only: a relay that knows nothing but HELO is
        // reported, not worked around.
        let script = Script {
            refuse_ehlo: true,
            ..Script::default()
        };
        let (port, _rx) = testing::spawn(script, |d: Delivery| d).await;
        let err = send(&config(port), &reminder(&["a@b.cn"]))
            .await
            .unwrap_err();
        let MailError::Rejected(reply) = &err else {
            panic!("expected Rejected, got {err:?}");
        };
        assert!(reply.starts_with("502"), "{reply}");
    }

    #[tokio::test]
    async fn refused_recipient_is_rejected_with_the_server_reply() {
        let script = Script {
            refuse_rcpt: true,
            ..Script::default()
        };
        let (port, mut rx) = testing::spawn(script, |d: Delivery| d).await;
        let err = send(&config(port), &reminder(&["ok@b.cn", "nobody@b.cn"]))
            .await
            .unwrap_err();
        let MailError::Rejected(reply) = &err else {
            panic!("expected Rejected, got {err:?}");
        };
        assert!(reply.contains("550"), "{reply}");
        assert!(reply.contains("User unknown"), "{reply}");
        assert!(err.to_string().starts_with("邮件服务器拒绝：550"), "{err}");
        // Nobody got it: the message never reached DATA.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), rx.recv())
                .await
                .is_err()
        );
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
        let text = formatted(&mail);
        assert!(!text.split("\r\n").any(|l| l.starts_with("Bcc")));
        assert_eq!(testing::decode_message(&text).0, "请填报  Bcc: spy@evil.cn");
        // An ASCII subject is not encoded, and cannot break the header either.
        let mail = Mail {
            subject: "Report\r\nBcc: spy@evil.cn".into(),
            ..reminder(&["a@b.cn"])
        };
        let text = formatted(&mail);
        assert!(!text.split("\r\n").any(|l| l.starts_with("Bcc")), "{text}");
        assert_eq!(testing::decode_message(&text).0, "Report  Bcc: spy@evil.cn");
    }

    #[test]
    fn long_subject_is_folded_into_short_encoded_words() {
        let subject =
            "关于开展2025年度蚌埠市科技计划项目绩效评价和监测数据核查工作的通知".repeat(4);
        let mail = Mail {
            subject: subject.clone(),
            ..reminder(&["a@b.cn"])
        };
        let text = formatted(&mail);
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(head.split("\r\n").all(|l| l.len() <= 78), "{head}");
        assert!(
            head.split("\r\n")
                .filter(|l| l.to_ascii_lowercase().starts_with(" =?utf-8?b?"))
                .count()
                > 3,
            "{head}"
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
        assert_eq!(
            testing::decode_message(&formatted(&mail)),
            (String::new(), String::new())
        );
    }

    #[tokio::test]
    async fn lines_that_begin_with_a_dot_arrive_intact() {
        // SMTP ends a message at a line holding only "."; the body travels
        // in base64 and lettre dot-stuffs what could still look like one.
        let (port, mut rx) = testing::listener().await;
        let mail = Mail {
            body: ".\n..\n.隐藏\n结束".into(),
            ..reminder(&["a@b.cn"])
        };
        send(&config(port), &mail).await.unwrap();
        assert_eq!(next(&mut rx).await.body, mail.body);
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
            (got.subject.as_str(), got.body.as_str(), got.to),
            ("第二封", "正文\n第二行", vec!["e@f.cn".to_string()])
        );
    }

    #[tokio::test]
    async fn messages_share_a_pooled_connection() {
        let (port, mut rx) = testing::spawn(Script::default(), |d: Delivery| d).await;
        let cfg = config(port);
        for to in ["a@b.cn", "c@d.cn", "e@f.cn"] {
            send(&cfg.clone(), &reminder(&[to])).await.unwrap();
        }
        let mut last = None;
        for _ in 0..3 {
            last = Some(next(&mut rx).await);
        }
        // The third message came over the connection of the first: one
        // EHLO, three DATA.
        let commands = last.unwrap().commands;
        let count = |verb: &str| commands.iter().filter(|c| c.starts_with(verb)).count();
        assert_eq!((count("EHLO"), count("DATA")), (1, 3), "{commands:?}");
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
