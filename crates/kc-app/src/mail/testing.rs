//! A fake SMTP relay for tests, here and in other crates' tests (kc-web's
//! integration tests send reminders to it). It is compiled only for kc-app's
//! own tests and with the `testing` feature, which kc-web turns on in its
//! dev-dependencies: never into the server.
//!
//! It speaks just enough SMTP for the client (greeting, EHLO or HELO, MAIL,
//! RCPT, DATA, NOOP, RSET, QUIT) and decodes what the client sends: the
//! subject as RFC 2047 encoded words, the body as base64.
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
async fn serve(socket: TcpStream, script: Script, deliver: impl Fn(Delivery)) -> io::Result<()> {
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
            "NOOP" => "250 2.0.0 Ok".into(),
            "RSET" => {
                from.clear();
                to.clear();
                "250 2.0.0 Ok".into()
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

/// Decodes "=?UTF-8?B?...?=" words; the white space between two encoded
/// words does not count (RFC 2047 6.2), any other is kept as it is.
fn decode_words(value: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut last_encoded = false;
    let mut rest = value;
    while !rest.is_empty() {
        let space_len = rest.len() - rest.trim_start().len();
        let (space, after) = rest.split_at(space_len);
        let token_len = after.find(char::is_whitespace).unwrap_or(after.len());
        let (token, after) = after.split_at(token_len);
        rest = after;
        if token.is_empty() {
            // Trailing white space.
            out.extend(space.as_bytes());
            break;
        }
        let decoded = token
            .get(..10)
            .filter(|p| p.eq_ignore_ascii_case("=?UTF-8?B?"))
            .and_then(|_| token.get(10..)?.strip_suffix("?="))
            .and_then(|b| STANDARD.decode(b).ok());
        if !(last_encoded && decoded.is_some()) {
            out.extend(space.as_bytes());
        }
        last_encoded = decoded.is_some();
        out.extend(decoded.unwrap_or_else(|| token.as_bytes().to_vec()));
    }
    String::from_utf8_lossy(&out).into_owned()
}
