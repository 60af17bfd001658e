//! Test support shared by the integration tests: the conformance suite's assembler and its
//! `.data` file format.

pub mod asm;
pub mod data;
