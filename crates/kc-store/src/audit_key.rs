//! The audit key and the anchors: what keeps the audit trail honest against
//! someone who can write to the database but not to the server's files.
//!
//! The key (32 random bytes, hex in a file of mode 0600 or in
//! `KECHUANG_AUDIT_KEY`) never enters the database; the database keeps only
//! its fingerprint (`key_id`). Every entry carries a MAC under the key, so an
//! edit or a forged entry cannot be made to verify. The MAC alone cannot show
//! that the newest entries were removed: after every audit commit the head's
//! sequence number and MAC are appended to the anchor file beside the key,
//! and `verify` refuses a database whose head is behind its newest anchor.
//!
//! An anchor is written after its commit, so it may lag the database (a crash
//! in between) but is never ahead of it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key file's name in the data folder.
pub const KEY_FILE: &str = "audit.key";
/// The anchor file's name in the data folder.
pub const ANCHOR_FILE: &str = "audit-anchors.log";

/// The audit key. Its `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct AuditKey {
    bytes: [u8; 32],
    id: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.id)
    }
}

/// Why a key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("审计密钥格式不正确（{0}）：应为 64 个十六进制字符（32 字节）")]
    Format(String),
    #[error("无法读写审计密钥文件 {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("无法从操作系统取得随机数以生成审计密钥")]
    Random,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AuditKey {
    fn from_bytes(bytes: [u8; 32]) -> AuditKey {
        let mut k = AuditKey {
            bytes,
            id: String::new(),
        };
        k.id = hex(&k.raw_mac(b"kechuang-audit-key-id")[..8]);
        k
    }

    /// A key from 64 hexadecimal characters (surrounding space ignored).
    pub fn from_hex(text: &str) -> Result<AuditKey, KeyError> {
        let t = text.trim();
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::Format(format!("{} 个字符", t.chars().count())));
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&t[2 * i..2 * i + 2], 16)
                .map_err(|_| KeyError::Format("非十六进制字符".into()))?;
        }
        Ok(AuditKey::from_bytes(bytes))
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<AuditKey, KeyError> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(AuditKey::from_bytes(bytes))
    }

    /// The key's fingerprint (16 hex characters), stored in the database and
    /// shown to operators; it does not reveal the key.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn to_hex(&self) -> String {
        hex(&self.bytes)
    }

    fn raw_mac(&self, msg: &[u8]) -> Vec<u8> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.bytes).expect("any key length");
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }

    /// The MAC of an entry: its database, sequence number and hash (the hash
    /// covers every field and the previous hash).
    pub fn entry_mac(&self, db_id: &str, seq: i64, hash: &str) -> String {
        hex(&self.raw_mac(format!("kechuang-audit-v1|{db_id}|{seq}|{hash}").as_bytes()))
    }
}

/// Where the key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The environment variable `KECHUANG_AUDIT_KEY`.
    Env,
    /// The key file, read.
    File(PathBuf),
    /// The key file, created now.
    Created(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "环境变量 KECHUANG_AUDIT_KEY"),
            KeySource::File(p) => write!(f, "{}", p.display()),
            KeySource::Created(p) => write!(f, "{}（新生成）", p.display()),
        }
    }
}

/// The data folder of a database, where its key and anchors live: the one
/// given, else the SQLite file's folder, else `data` (PostgreSQL). `None`
/// for an in-memory SQLite database.
pub fn data_dir(url: &str, given: Option<&Path>) -> Option<PathBuf> {
    if let Some(d) = given {
        return Some(d.to_path_buf());
    }
    let url = url.trim();
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split_once('?').map(|(p, _)| p).unwrap_or(rest);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        let dir = Path::new(path).parent().unwrap_or(Path::new(""));
        return Some(if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.to_path_buf()
        });
    }
    Some(PathBuf::from("data"))
}

/// The key: from `env_key` when given (`KECHUANG_AUDIT_KEY`), else from
/// `dir/audit.key`; with `create`, a missing file is created with a new
/// random key (mode 0600). `Ok(None)` when there is none and `create` is off.
pub fn load_key(
    dir: &Path,
    env_key: Option<&str>,
    create: bool,
) -> Result<Option<(AuditKey, KeySource)>, KeyError> {
    if let Some(k) = env_key.filter(|k| !k.trim().is_empty()) {
        return Ok(Some((AuditKey::from_hex(k)?, KeySource::Env)));
    }
    let path = dir.join(KEY_FILE);
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(Some((AuditKey::from_hex(&text)?, KeySource::File(path)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if !create {
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let key = AuditKey::generate()?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(&path) {
        Ok(mut f) => {
            f.write_all(format!("{}\n", key.to_hex()).as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(io)?;
            Ok(Some((key, KeySource::Created(path))))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).map_err(io)?;
            Ok(Some((AuditKey::from_hex(&text)?, KeySource::File(path))))
        }
        Err(e) => Err(io(e)),
    }
}

/// The key a store signs with and the anchor file it appends to.
#[derive(Debug)]
pub(crate) struct Keeper {
    pub(crate) key: AuditKey,
    pub(crate) anchors: Option<Anchors>,
}

/// The append-only anchor file: one line per audit commit,
/// `DB_ID SEQ MAC` (or `DB_ID restore SEQ MAC` after a restore, which starts
/// the database's anchors afresh).
#[derive(Debug)]
pub(crate) struct Anchors {
    pub(crate) path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl Anchors {
    pub(crate) fn new(path: PathBuf) -> Anchors {
        Anchors {
            path,
            file: Mutex::new(None),
        }
    }

    /// Appends one line (one `write` on a file opened with O_APPEND, so
    /// lines of several processes do not interleave); no fsync.
    pub(crate) fn append(
        &self,
        db_id: &str,
        seq: i64,
        mac: &str,
        restore: bool,
    ) -> std::io::Result<()> {
        let line = if restore {
            format!("{db_id} restore {seq} {mac}\n")
        } else {
            format!("{db_id} {seq} {mac}\n")
        };
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.append(true).create(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            *guard = Some(opts.open(&self.path)?);
        }
        let f = guard.as_mut().expect("opened above");
        f.write_all(line.as_bytes())
    }

    /// The file's text, or nothing when there is no file yet.
    pub(crate) fn read_text(&self) -> std::io::Result<String> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(e),
        }
    }
}

/// The anchors of database `db_id` since its last restore, sorted by
/// sequence number, and the numbers of the lines that could not be read. A
/// last line without its newline (a write cut by a crash) is ignored.
pub(crate) fn parse_anchors(text: &str, db_id: &str) -> (Vec<(i64, String)>, Vec<usize>) {
    let complete = if text.ends_with('\n') {
        text
    } else {
        text.rfind('\n').map(|i| &text[..=i]).unwrap_or("")
    };
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in complete.lines().enumerate() {
        let parts: Vec<&str> = line.split(' ').collect();
        let (id, restore, seq, mac) = match parts.as_slice() {
            [id, seq, mac] => (*id, false, *seq, *mac),
            [id, "restore", seq, mac] => (*id, true, *seq, *mac),
            _ => {
                bad.push(i + 1);
                continue;
            }
        };
        let Ok(seq) = seq.parse::<i64>() else {
            bad.push(i + 1);
            continue;
        };
        if id != db_id {
            continue;
        }
        if restore {
            out.clear();
        }
        out.push((seq, mac.to_string()));
    }
    out.sort();
    out.dedup();
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_macs() {
        let k = AuditKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(k.id().len(), 16);
        assert_eq!(AuditKey::from_hex(&k.to_hex()).unwrap().id(), k.id());
        assert!(AuditKey::from_hex("abc").is_err());
        assert!(AuditKey::from_hex(&"zz".repeat(32)).is_err());
        let m = k.entry_mac("db", 1, "h");
        assert_eq!(m.len(), 64);
        assert_ne!(m, k.entry_mac("db", 2, "h"));
        assert_ne!(m, k.entry_mac("dc", 1, "h"));
        let other = AuditKey::generate().unwrap();
        assert_ne!(other.entry_mac("db", 1, "h"), m);
        assert_ne!(format!("{k:?}"), k.to_hex());
    }

    #[test]
    fn data_dirs() {
        assert_eq!(
            data_dir("sqlite://data/kc.db", None),
            Some(PathBuf::from("data"))
        );
        assert_eq!(
            data_dir("sqlite:///var/kc/kc.db?mode=rwc", None),
            Some(PathBuf::from("/var/kc"))
        );
        assert_eq!(data_dir("sqlite://kc.db", None), Some(PathBuf::from(".")));
        assert_eq!(data_dir("sqlite::memory:", None), None);
        assert_eq!(
            data_dir("postgres://h/db", None),
            Some(PathBuf::from("data"))
        );
        assert_eq!(
            data_dir("postgres://h/db", Some(Path::new("/srv/kc"))),
            Some(PathBuf::from("/srv/kc"))
        );
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("kc-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(load_key(&dir, None, false).unwrap().is_none());
        let (k1, s1) = load_key(&dir, None, true).unwrap().unwrap();
        assert!(matches!(s1, KeySource::Created(_)));
        let (k2, s2) = load_key(&dir, None, true).unwrap().unwrap();
        assert!(matches!(s2, KeySource::File(_)));
        assert_eq!(k1.id(), k2.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let env = "cd".repeat(32);
        let (k3, s3) = load_key(&dir, Some(&env), true).unwrap().unwrap();
        assert_eq!((s3, k3.to_hex()), (KeySource::Env, env));
        // Anchors: lines of other databases are skipped, a restore starts
        // afresh, a cut last line is ignored.
        let a = Anchors::new(dir.join(ANCHOR_FILE));
        a.append("x", 1, "m1", false).unwrap();
        a.append("y", 9, "m9", false).unwrap();
        a.append("x", 3, "m3", false).unwrap();
        a.append("x", 2, "m2", false).unwrap();
        assert_eq!(
            parse_anchors(&a.read_text().unwrap(), "x").0,
            vec![(1, "m1".into()), (2, "m2".into()), (3, "m3".into())]
        );
        a.append("x", 2, "r2", true).unwrap();
        a.append("x", 3, "n3", false).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&a.path)
            .unwrap();
        f.write_all(b"x 4 cu").unwrap();
        let (got, bad) = parse_anchors(&a.read_text().unwrap(), "x");
        assert_eq!(got, vec![(2, "r2".into()), (3, "n3".into())]);
        assert!(bad.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
