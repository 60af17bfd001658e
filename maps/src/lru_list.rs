//! Placeholder: LRU lists for the LRU hash maps.
