//! The demo kernel's entry point: everything lives in the library (`testkernel::arch`).

#![no_std]
#![no_main]

extern crate testkernel;
