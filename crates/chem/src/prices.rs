//! Reference data module (being written): prices.
