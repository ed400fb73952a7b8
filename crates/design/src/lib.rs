//! sxplan-design: see ARCHITECTURE.md for what this crate owns.
