//! Files the person chose (open dialog) or dropped on the window. The page never names a path:
//! it gets a token per file and may read only those files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::error::CommandError;

/// The largest file handed to the page in one read.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickedFile {
    pub token: u64,
    pub name: String,
    pub size: u64,
}

#[derive(Default)]
pub struct Grants {
    inner: Mutex<(u64, HashMap<u64, PathBuf>)>,
}

impl Grants {
    /// Grants read access to regular files; directories and unreadable paths are skipped.
    pub fn grant(&self, paths: impl IntoIterator<Item = PathBuf>) -> Vec<PickedFile> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for path in paths {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            g.0 += 1;
            let token = g.0;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            g.1.insert(token, path);
            out.push(PickedFile {
                token,
                name,
                size: meta.len(),
            });
        }
        out
    }

    pub fn path(&self, token: u64) -> Result<PathBuf, CommandError> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.get(&token).cloned().ok_or(CommandError::UnknownFile)
    }

    pub fn read(&self, token: u64) -> Result<Vec<u8>, CommandError> {
        let path = self.path(token)?;
        let size = std::fs::metadata(&path)?.len();
        if size > MAX_FILE_BYTES {
            return Err(CommandError::FileTooLarge(size));
        }
        Ok(std::fs::read(path)?)
    }
}

/// A file name from the page, reduced to its last component, for the save dialog.
pub fn safe_file_name(name: &str) -> String {
    let last = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .collect();
    if cleaned.trim().is_empty() || cleaned == "." || cleaned == ".." {
        "download".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granted_regular_files_are_readable() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, b"hi").unwrap();
        let g = Grants::default();
        let picked = g.grant([
            f.clone(),
            dir.path().to_path_buf(),
            dir.path().join("missing"),
        ]);
        assert_eq!(
            picked,
            vec![PickedFile {
                token: 1,
                name: "a.txt".into(),
                size: 2
            }]
        );
        assert_eq!(g.read(1).unwrap(), b"hi");
        assert!(matches!(g.read(2), Err(CommandError::UnknownFile)));
    }

    #[test]
    fn save_names_lose_their_directories() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("report.pdf"), "report.pdf");
        assert_eq!(safe_file_name(""), "download");
        assert_eq!(safe_file_name(".."), "download");
    }
}
