//! `BPF_BTF_LOAD` through raw attribute bytes: real clang BTF, the errno of each failure,
//! the log, BTF info, and map creation with BTF key/value types.

use std::process::Command;
use std::vec::Vec;

use object::{Object, ObjectSection};
use syscall_abi::bpf::{BpfBtfInfo, BtfLoadAttr, Cmd, InfoAttr, MapCreateAttr, MapType, BPF_F_LOCK};
use syscall_abi::Errno;

use super::{e, u32b, T};
use crate::btf::tests::{sample, B};
use crate::btf::Btf;
use crate::host::Capability;
use crate::verifier::VerifierLog;

const SRC: &str = r#"
struct bpf_spin_lock { unsigned int val; };
struct val {
    int a;
    struct bpf_spin_lock lock;
    long long b;
    unsigned int flags : 3, mode : 5;
    char name[16];
    const volatile int *p;
    enum color { RED, GREEN } c;
    union { int x; short y; } u;
};
typedef struct val val_t;
__attribute__((section("kprobe/x"), used)) int prog(val_t *v, int k) { return v ? v->a + k : 0; }
"#;

/// Compiles [`SRC`] with `clang -O2 -g -target bpf` and returns its `.BTF` section.
fn clang_btf() -> Vec<u8> {
    let dir = std::env::temp_dir();
    let src = dir.join(format!("bpf-subsys-btf-{}.c", std::process::id()));
    let out = dir.join(format!("bpf-subsys-btf-{}.o", std::process::id()));
    std::fs::write(&src, SRC).unwrap();
    let status = Command::new("clang")
        .args(["-O2", "-g", "-target", "bpf", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("clang must be installed to build the test program");
    assert!(status.success(), "clang failed");
    let elf = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&out);
    let file = object::File::parse(&*elf).unwrap();
    file.section_by_name(".BTF").expect("no .BTF section").data().unwrap().to_vec()
}

/// `BPF_BTF_LOAD` of `blob` with an optional log of `log_size` bytes at `level`; returns
/// the result and the log text.
fn load(t: &T, blob: &[u8], level: u32, log_size: u32) -> (isize, String) {
    let buf = if log_size > 0 { t.h.alloc(log_size as usize) } else { 0 };
    let a = BtfLoadAttr {
        btf: t.h.put_bytes(blob),
        btf_size: blob.len() as u32,
        btf_log_buf: buf,
        btf_log_size: log_size,
        btf_log_level: level,
        ..BtfLoadAttr::ZERO
    };
    let r = t.call(Cmd::BtfLoad, &a);
    let text = if buf != 0 {
        let bytes = t.h.read(buf, log_size as usize);
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    } else {
        String::new()
    };
    (r, text)
}

/// The id of the type named `name` of kind `kind`.
fn find(btf: &Btf, name: &str, kind: u32) -> u32 {
    (1..btf.nr_types()).find(|&id| btf.name_of(id) == name.as_bytes() && btf.kind_of(id) == Some(kind)).unwrap()
}

fn btf_info(t: &T, fd: u32, buf_len: u32) -> (isize, BpfBtfInfo, Vec<u8>) {
    let buf = t.h.alloc(buf_len.max(1) as usize);
    let init = BpfBtfInfo { btf: buf, btf_size: buf_len, ..BpfBtfInfo::ZERO };
    let info = t.h.put(&init);
    let a = InfoAttr { bpf_fd: fd, info_len: core::mem::size_of::<BpfBtfInfo>() as u32, info };
    let r = t.call(Cmd::ObjGetInfoByFd, &a);
    (r, t.h.get(info), t.h.read(buf, buf_len as usize))
}

#[test]
fn clang_btf_loads_and_describes_a_spin_lock_map() {
    let t = T::new();
    let blob = clang_btf();
    let (fd, log) = load(&t, &blob, 1, 1 << 16);
    assert!(fd >= 3, "BTF_LOAD failed: {fd}\n{log}");
    assert!(log.contains("STRUCT val size="), "{log}");
    let fd = fd as u32;
    // Info: the blob as far as btf_size allows, then its full size.
    let (r, info, bytes) = btf_info(&t, fd, 16);
    assert_eq!(r, 0);
    assert_eq!(info.btf_size as usize, blob.len());
    assert_eq!(bytes, blob[..16]);
    assert!(info.id > 0);
    assert_eq!((info.kernel_btf, info.name_len), (0, 0));
    let (_, _, all) = btf_info(&t, fd, blob.len() as u32);
    assert_eq!(all, blob);

    let btf = Btf::parse(&blob, &mut VerifierLog::disabled()).unwrap();
    let int = find(&btf, "int", crate::btf::kind::INT);
    let val = find(&btf, "val_t", crate::btf::kind::TYPEDEF);
    let (_, vsize) = btf.type_id_size(val).unwrap();
    let create = |ty: MapType, key: u32, value: u32, vs: u32| {
        let a = MapCreateAttr {
            map_type: ty.into(),
            key_size: 4,
            value_size: vs,
            max_entries: 4,
            btf_fd: fd,
            btf_key_type_id: key,
            btf_value_type_id: value,
            ..MapCreateAttr::ZERO
        };
        t.call(Cmd::MapCreate, &a)
    };
    // Sizes must match the types.
    assert_eq!(create(MapType::Array, int, val, vsize + 8), e(Errno::EINVAL));
    assert_eq!(create(MapType::Array, val, val, vsize), e(Errno::EINVAL));
    assert_eq!(create(MapType::Array, int, 99_999, vsize), e(Errno::EINVAL));
    assert_eq!(create(MapType::PerfEventArray, int, int, 4), e(Errno::ENOTSUPP));
    // Prog arrays take BTF (as aya and libbpf send it for `__type(key, ...)` maps).
    assert!(create(MapType::ProgArray, int, int, 4) >= 3);
    // A value with a bpf_spin_lock: BPF_F_LOCK works.
    let m = create(MapType::Array, int, val, vsize);
    assert!(m >= 3, "{m}");
    let m = m as u32;
    let value: Vec<u8> = (0..vsize as u8).collect();
    assert_eq!(t.update(m, &u32b(1), &value, BPF_F_LOCK), 0);
    let got = t.lookup(m, &u32b(1), vsize as usize).unwrap();
    assert_eq!(got[..4], value[..4]);
    assert_eq!(got[8..], value[8..]);
    // Without a lock in the value, BPF_F_LOCK is EINVAL.
    let plain = create(MapType::Array, int, int, 4);
    assert!(plain >= 3);
    assert_eq!(t.update(plain as u32, &u32b(1), &u32b(7), BPF_F_LOCK), e(Errno::EINVAL));
    t.assert_all_freed();
}

#[test]
fn btf_load_errno() {
    let t = T::new();
    let (good, _) = sample();
    let (fd, _) = load(&t, &good, 0, 0);
    assert!(fd >= 3, "{fd}");
    // Log attributes: all or nothing, size 128..=u32::MAX>>2, known level bits.
    let a = BtfLoadAttr { btf: t.h.put_bytes(&good), btf_size: good.len() as u32, ..BtfLoadAttr::ZERO };
    let cases = [
        (BtfLoadAttr { btf_log_level: 1, ..a }, Errno::EINVAL),
        (BtfLoadAttr { btf_log_level: 1, btf_log_size: 64, btf_log_buf: t.h.alloc(64), ..a }, Errno::EINVAL),
        (BtfLoadAttr { btf_log_level: 8, btf_log_size: 256, btf_log_buf: t.h.alloc(256), ..a }, Errno::EINVAL),
        (BtfLoadAttr { btf_log_size: 256, btf_log_buf: t.h.alloc(256), ..a }, Errno::EINVAL),
        (BtfLoadAttr { btf_size: 16 * 1024 * 1024 + 1, ..a }, Errno::E2BIG),
        (BtfLoadAttr { btf_size: 0, ..a }, Errno::EINVAL),
        (BtfLoadAttr { btf: 0, ..a }, Errno::EFAULT),
        (BtfLoadAttr { pad0: 1, ..a }, Errno::EINVAL),
    ];
    for (i, (a, errno)) in cases.iter().enumerate() {
        assert_eq!(t.call(Cmd::BtfLoad, a), e(*errno), "case {i}");
    }
    // A log that does not fit: ENOSPC for a valid blob, with the start of the log.
    let (r, log) = load(&t, &good, 1, 128);
    assert_eq!(r, e(Errno::ENOSPC));
    assert!(log.starts_with("magic: 0xeb9f\n") && log.len() == 127, "{log:?}");
    // A corrupted blob: Linux's errno, and its log line in the user's buffer.
    let mut bad = good.clone();
    bad[0] ^= 0xff;
    assert_eq!(load(&t, &bad, 1, 4096), (e(Errno::EINVAL), load(&t, &bad, 1, 4096).1));
    assert!(load(&t, &bad, 1, 4096).1.ends_with("Invalid magic"));
    let mut b = B::new();
    b.ptr(42);
    let (r, log) = load(&t, &b.blob(), 1, 4096);
    assert_eq!(r, e(Errno::EINVAL));
    assert!(log.ends_with("[1] PTR (anon) type_id=42 Invalid type_id\n"), "{log}");
    // Capabilities.
    t.h.drop_all_caps();
    assert_eq!(load(&t, &good, 0, 0).0, e(Errno::EPERM));
    t.h.set_cap(Capability::Bpf, true);
    assert!(load(&t, &good, 0, 0).0 >= 3);
    t.assert_all_freed();
}
