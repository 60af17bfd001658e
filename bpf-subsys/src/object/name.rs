//! Object names (`map_name`, `prog_name`): Linux `bpf_obj_name_cpy`.

use syscall_abi::bpf::BPF_OBJ_NAME_LEN;
use syscall_abi::{err, Errno, Result};

/// Linux kernel `isalnum()`: the kernel's ctype table is ISO 8859-1, so besides ASCII letters
/// and digits the Latin-1 letters `0xc0..=0xff` count, except `×` (0xd7) and `÷` (0xf7).
fn kernel_isalnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || (c >= 0xc0 && c != 0xd7 && c != 0xf7)
}

/// Linux `bpf_obj_name_cpy`: the name is the bytes before the first NUL; each must be
/// alphanumeric (kernel `isalnum`), `_` or `.` (else `EINVAL`), and the NUL must come within
/// the 16 bytes (else `EINVAL`). Returns the name NUL-padded to 16 bytes (bytes after the NUL
/// are dropped, as Linux copies only up to it).
pub fn obj_name_cpy(src: &[u8; BPF_OBJ_NAME_LEN]) -> Result<[u8; BPF_OBJ_NAME_LEN]> {
    let Some(len) = src.iter().position(|&c| c == 0) else {
        return err(Errno::EINVAL, "object name is not NUL-terminated within 16 bytes");
    };
    if !src[..len].iter().all(|&c| kernel_isalnum(c) || c == b'_' || c == b'.') {
        return err(Errno::EINVAL, "object name may only hold alphanumerics, '_' and '.'");
    }
    let mut name = [0u8; BPF_OBJ_NAME_LEN];
    name[..len].copy_from_slice(&src[..len]);
    Ok(name)
}
