//! Renderers for `optimize` results (being written).
