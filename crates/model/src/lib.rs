//! sxplan-model: see ARCHITECTURE.md for what this crate owns.
