//! Placeholder: generic batch operations.
