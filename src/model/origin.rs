//! `Origin`: where in the inventory a value was written, for messages.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A place in the inventory: file, 1-based line and column, and the field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<PathBuf>,
    pub line: usize,
    pub column: usize,
    pub field: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        Ok(())
    }
}
