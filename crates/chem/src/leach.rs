//! Reference data module (being written): leach.
