//! Reference data module (being written): mud.
