//! CLI tests come later.
