//! The one error type of the commands: a stable `code` the UI can branch on and a message.

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("invalid server address: {0}")]
    InvalidServer(String),
    #[error("invalid shortcut: {0}")]
    InvalidShortcut(String),
    #[error("unknown file")]
    UnknownFile,
    #[error("file too large ({0} bytes)")]
    FileTooLarge(u64),
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Tauri(#[from] tauri::Error),
}

impl CommandError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidServer(_) => "invalid_server",
            Self::InvalidShortcut(_) => "invalid_shortcut",
            Self::UnknownFile => "unknown_file",
            Self::FileTooLarge(_) => "file_too_large",
            Self::BadRequest(_) => "bad_request",
            Self::Io(_) => "io",
            Self::Tauri(_) => "internal",
        }
    }
}

/// Serialized as `{ "code": "invalid_server", "message": "…" }`.
impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CommandError", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn serializes_code_and_message() {
        let e = super::CommandError::InvalidServer("ftp://x".into());
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": "invalid_server", "message": "invalid server address: ftp://x"})
        );
    }
}
