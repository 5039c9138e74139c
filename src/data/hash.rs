//! The BLAKE3 hash of an input file, computed from the very bytes its reader
//! parses: no second read of the file, and the hash a run records is of
//! the data it used, even if the file changes while the run reads it.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, OnceLock};

/// Where a reader leaves the hash of its file (shared with whoever asked
/// for it). Set once the whole file went through the reader, or, when the
/// reader is dropped before the end of the file (a run that stops early),
/// once the rest of the file was read and hashed; never set when reading
/// failed.
#[derive(Clone, Debug, Default)]
pub struct InputHash(Arc<OnceLock<String>>);

impl InputHash {
    /// A handle for a reader to fill.
    pub fn new() -> InputHash {
        InputHash::default()
    }

    /// The file's BLAKE3 hash in hex (as `b3sum` prints it), once known.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// A file that hashes every byte read from it.
pub(crate) struct HashingFile {
    file: File,
    hasher: blake3::Hasher,
    out: InputHash,
    /// The hash is final (end of file) or given up (a read error).
    done: bool,
}

impl HashingFile {
    /// Hashes `file` from its current position (the start) on into `out`.
    pub(crate) fn new(file: File, out: InputHash) -> HashingFile {
        HashingFile {
            file,
            hasher: blake3::Hasher::new(),
            out,
            done: false,
        }
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            let _ = self.out.0.set(self.hasher.finalize().to_hex().to_string());
        }
    }
}

impl Read for HashingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.file.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.finish();
                Ok(0)
            }
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.done = true;
                }
                Err(e)
            }
        }
    }
}

impl Drop for HashingFile {
    /// A reader stopped before the end: the rest of the file is hashed too,
    /// so that the hash always covers the whole file.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match self.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("playbook-hash-{}-{name}", std::process::id()));
        File::create(&path).unwrap().write_all(bytes).unwrap();
        path
    }

    #[test]
    fn a_whole_read_and_an_early_drop_give_the_file_hash() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let path = temp("whole", &bytes);
        let expected = blake3::hash(&bytes).to_hex().to_string();
        // Read to the end in odd-sized pieces.
        let out = InputHash::new();
        let mut f = HashingFile::new(File::open(&path).unwrap(), out.clone());
        let mut buf = vec![0u8; 7_777];
        while f.read(&mut buf).unwrap() > 0 {}
        assert_eq!(out.get(), Some(expected.as_str()));
        drop(f);
        // Dropped after a part: the rest is hashed on drop.
        let out = InputHash::new();
        let mut f = HashingFile::new(File::open(&path).unwrap(), out.clone());
        f.read_exact(&mut buf[..1000]).unwrap();
        assert_eq!(out.get(), None);
        drop(f);
        assert_eq!(out.get(), Some(expected.as_str()));
        // An empty file.
        let empty = temp("empty", b"");
        let out = InputHash::new();
        drop(HashingFile::new(File::open(&empty).unwrap(), out.clone()));
        assert_eq!(out.get(), Some(blake3::hash(b"").to_hex().as_str()));
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(empty);
    }
}
