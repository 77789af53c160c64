//! The manifest of Redis 7's multi-part AOF: which base file and which incremental files
//! make up the append-only file, in replay order.
//!
//! Format (one file per line, as `redis-server` 7.0 writes and reads it):
//! ```text
//! file appendonly.aof.1.base.aof seq 1 type b
//! file appendonly.aof.1.incr.aof seq 1 type i
//! ```
//! `type` is `b` (base), `h` (history: no longer needed, deleted soon) or `i` (incremental);
//! lines starting with `#` are comments. Names with spaces or unusual bytes are quoted and
//! escaped the way Redis's `sdscatrepr` does. A new manifest is written to a temporary file,
//! fsynced and renamed over the old one, so a crash leaves either the old or the new one.

use std::io::Write;
use std::path::Path;

/// One file the manifest names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The file name, relative to `appenddirname`.
    pub name: String,
    /// The file's sequence number.
    pub seq: u64,
    /// What the file holds.
    pub kind: Kind,
}

/// The role of an AOF file in the manifest (`type` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `b`: the base: the dataset at the last rewrite.
    Base,
    /// `h`: superseded by a rewrite; deleted once the new manifest is in place.
    History,
    /// `i`: incremental: commands since the base.
    Incr,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Base => 'b',
            Kind::History => 'h',
            Kind::Incr => 'i',
        }
    }
}

/// A parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<FileInfo>,
    /// Incremental files, in order.
    pub incrs: Vec<FileInfo>,
    /// History files waiting for deletion.
    pub history: Vec<FileInfo>,
    /// Highest base and incremental sequence numbers used so far.
    pub base_seq: u64,
    /// Highest incremental sequence number used so far.
    pub incr_seq: u64,
}

impl Manifest {
    /// Parses a manifest's text; errors say what is wrong and on which line.
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = trim(line);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let words = split_args(line)
                .ok_or_else(|| format!("Invalid AOF manifest file format (line {})", n + 1))?;
            if words.len() % 2 != 0 {
                return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0].as_slice() {
                    b"file" => name = Some(pair[1].clone()),
                    b"seq" => {
                        seq = std::str::from_utf8(&pair[1])
                            .ok()
                            .and_then(|s| s.parse::<u64>().ok())
                    }
                    b"type" => {
                        kind = match pair[1].as_slice() {
                            b"b" => Some(Kind::Base),
                            b"h" => Some(Kind::History),
                            b"i" => Some(Kind::Incr),
                            _ => None,
                        }
                    }
                    _ => {} // unknown keys are ignored, as Redis does
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
            };
            let name = String::from_utf8(name)
                .map_err(|_| format!("Invalid AOF file name in manifest (line {})", n + 1))?;
            if name.contains('/') {
                return Err(format!(
                    "Invalid AOF file name in manifest (line {}): '{name}'",
                    n + 1
                ));
            }
            let info = FileInfo { name, seq, kind };
            match kind {
                Kind::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".to_string());
                    }
                    m.base_seq = seq;
                    m.base = Some(info);
                }
                Kind::History => m.history.push(info),
                Kind::Incr => {
                    if seq <= m.incr_seq && !m.incrs.is_empty() {
                        return Err("Found a non-monotonic sequence number".to_string());
                    }
                    m.incr_seq = seq;
                    m.incrs.push(info);
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Found an empty AOF manifest".to_string());
        }
        Ok(m)
    }

    /// The manifest's text: base, history, then incremental files (Redis's order).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incrs.iter())
        {
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                repr(&f.name),
                f.seq,
                f.kind.letter()
            ));
        }
        out
    }

    /// Names a new base file (the next base sequence number) with the given prefix
    /// (`appendfilename`).
    pub fn next_base(&mut self, prefix: &str) -> FileInfo {
        self.base_seq += 1;
        FileInfo {
            name: format!("{prefix}.{}.base.aof", self.base_seq),
            seq: self.base_seq,
            kind: Kind::Base,
        }
    }

    /// Names a new incremental file.
    pub fn next_incr(&mut self, prefix: &str) -> FileInfo {
        self.incr_seq += 1;
        FileInfo {
            name: format!("{prefix}.{}.incr.aof", self.incr_seq),
            seq: self.incr_seq,
            kind: Kind::Incr,
        }
    }

    /// Writes the manifest atomically to `dir/name`: a temporary file, fsynced, renamed
    /// over the old one, then the directory fsynced.
    pub fn persist(&self, dir: &Path, name: &str) -> std::io::Result<()> {
        let tmp = dir.join(format!("temp-{name}"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.to_text().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(name))?;
        sync_dir(dir)
    }
}

/// fsyncs a directory, so a rename or a new file in it survives a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    let _ = dir;
    Ok(())
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Splits a line into words as Redis's `sdssplitargs` does: spaces separate, `"…"` with
/// `\n`, `\xHH`… escapes and `'…'` quote.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut word = Vec::new();
        match line[i] {
            b'"' => {
                i += 1;
                loop {
                    let c = *line.get(i)?;
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = *line.get(i)?;
                            i += 1;
                            match e {
                                b'n' => word.push(b'\n'),
                                b'r' => word.push(b'\r'),
                                b't' => word.push(b'\t'),
                                b'b' => word.push(8),
                                b'a' => word.push(7),
                                b'x' => {
                                    let h = std::str::from_utf8(line.get(i..i + 2)?).ok()?;
                                    word.push(u8::from_str_radix(h, 16).ok()?);
                                    i += 2;
                                }
                                other => word.push(other),
                            }
                        }
                        other => word.push(other),
                    }
                }
                if line.get(i).is_some_and(|c| !c.is_ascii_whitespace()) {
                    return None;
                }
            }
            b'\'' => {
                i += 1;
                loop {
                    let c = *line.get(i)?;
                    i += 1;
                    if c == b'\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            _ => {
                while i < line.len() && !line[i].is_ascii_whitespace() {
                    word.push(line[i]);
                    i += 1;
                }
            }
        }
        out.push(word);
    }
    Some(out)
}

/// A file name as the manifest writes it: bare when it is plain, else quoted and escaped.
fn repr(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_redis_text() {
        let text = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text.as_bytes()).expect("valid");
        assert_eq!(m.to_text(), text);
        assert_eq!(m.base_seq, 1);
        assert_eq!(m.incr_seq, 1);
        let mut m2 = m.clone();
        assert_eq!(
            m2.next_incr("appendonly.aof").name,
            "appendonly.aof.2.incr.aof"
        );
        assert_eq!(
            m2.next_base("appendonly.aof").name,
            "appendonly.aof.2.base.aof"
        );
    }

    #[test]
    fn quoted_names_and_errors() {
        let m = Manifest::parse(b"# c\nfile \"a b.1.base.aof\" seq 1 type b\n").expect("valid");
        assert_eq!(
            m.base.as_ref().map(|b| b.name.as_str()),
            Some("a b.1.base.aof")
        );
        assert!(m.to_text().starts_with("file \"a b.1.base.aof\""));
        assert!(Manifest::parse(b"").is_err());
        assert!(Manifest::parse(b"file x seq y type b\n").is_err());
        assert!(Manifest::parse(b"file x seq 1 type z\n").is_err());
        assert!(Manifest::parse(b"file ../x seq 1 type b\n").is_err());
        assert!(Manifest::parse(b"file \"x seq 1 type b\n").is_err());
    }
}
