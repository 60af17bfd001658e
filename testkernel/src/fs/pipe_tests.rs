use super::*;
use crate::user::TestMem;
use alloc::vec;
use alloc::vec::Vec;

fn pair(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    new_pipe(flags)
}

fn read(f: &OpenFile, n: usize) -> KResult<Vec<u8>> {
    let mut b = vec![0u8; n];
    let got = f.ops.read(f, &mut b)?;
    b.truncate(got);
    Ok(b)
}

#[test]
fn round_trip_path_flags_and_stat() {
    let (r, w) = pair(0);
    assert!(r.path.starts_with("pipe:[") && r.path.ends_with(']'));
    assert_eq!(r.path, w.path);
    assert_eq!(r.flags(), 0);
    assert_eq!(w.flags(), O_WRONLY);
    assert_eq!(w.ops.write(&w, b"hello"), Ok(5));
    assert_eq!(read(&r, 3).unwrap(), b"hel");
    assert_eq!(read(&r, 100).unwrap(), b"lo");
    let st = r.ops.stat().unwrap();
    assert_eq!(st.mode, 0o010600);
    assert_eq!(st.dev, PIPEFS_DEV);
    assert_eq!(format!("pipe:[{}]", st.ino), r.path);
    assert_eq!(w.ops.stat().unwrap().ino, st.ino);
    // Two pipes have different inodes.
    let (r2, _w2) = pair(0);
    assert_ne!(r2.path, r.path);
}

#[test]
fn wrong_end_offsets_and_seek() {
    let (r, w) = pair(0);
    assert_eq!(r.ops.write(&r, b"x"), Err(Errno::EBADF));
    assert_eq!(read(&w, 1), Err(Errno::EBADF));
    assert_eq!(r.ops.seek(&r, 0, 0), Err(Errno::ESPIPE));
    assert_eq!(r.ops.read_at(0, &mut [0u8; 1]), Err(Errno::ESPIPE));
    assert_eq!(w.ops.write_at(0, b"x"), Err(Errno::ESPIPE));
}

#[test]
fn nonblocking_empty_eof_and_epipe() {
    let (r, w) = pair(O_NONBLOCK);
    assert_eq!(r.flags(), O_NONBLOCK);
    assert_eq!(read(&r, 10), Err(Errno::EAGAIN));
    // A zero-length read or write succeeds at once.
    assert_eq!(read(&r, 0).unwrap(), b"");
    assert_eq!(w.ops.write(&w, b""), Ok(0));
    w.ops.write(&w, b"ab").unwrap();
    drop(w);
    assert_eq!(read(&r, 10).unwrap(), b"ab");
    assert_eq!(read(&r, 10).unwrap(), b"", "EOF once the writer is gone");

    let (r, w) = pair(0);
    drop(r);
    assert_eq!(w.ops.write(&w, b"x"), Err(Errno::EPIPE));
    assert_eq!(w.ops.write(&w, b""), Ok(0), "null write succeeds even without readers");
}

#[test]
fn capacity_and_pipe_buf_atomicity() {
    let (r, w) = pair(O_NONBLOCK);
    let big = vec![7u8; 70000];
    assert_eq!(w.ops.write(&w, &big), Ok(PIPE_DEFAULT_CAPACITY), "a long write is cut at capacity");
    assert_eq!(w.ops.write(&w, b"x"), Err(Errno::EAGAIN));
    assert_eq!(read(&r, 100).unwrap().len(), 100);
    // 100 bytes free: a 200-byte (atomic) write does not fit whole → EAGAIN, no partial write.
    assert_eq!(w.ops.write(&w, &[1u8; 200]), Err(Errno::EAGAIN));
    assert_eq!(r.ops.stat().map(|_| w.ops.as_any().downcast_ref::<PipeEnd>().unwrap().pipe().len()), Ok(65436));
    assert_eq!(w.ops.write(&w, &[1u8; 60]), Ok(60));
    // A non-atomic write (> PIPE_BUF) takes what fits.
    assert_eq!(w.ops.write(&w, &[2u8; 5000]), Ok(40));
}

#[test]
fn one_byte_writes_fill_exactly_64k() {
    let (_r, w) = pair(O_NONBLOCK);
    let mut n = 0;
    while w.ops.write(&w, b"z").is_ok() {
        n += 1;
        assert!(n <= PIPE_DEFAULT_CAPACITY);
    }
    assert_eq!(n, PIPE_DEFAULT_CAPACITY);
}

#[test]
fn poll_bits_follow_linux_pipe_poll() {
    let (r, w) = pair(O_NONBLOCK);
    assert_eq!(r.ops.poll(&r), PollEvents::empty());
    assert_eq!(w.ops.poll(&w), PollEvents::OUT | PollEvents::WRNORM);
    w.ops.write(&w, b"a").unwrap();
    assert_eq!(r.ops.poll(&r), PollEvents::IN | PollEvents::RDNORM);
    // Fill to less than PIPE_BUF free: no longer writable.
    w.ops.write(&w, &vec![0u8; PIPE_DEFAULT_CAPACITY - 4096]).unwrap();
    assert_eq!(w.ops.poll(&w), PollEvents::empty());
    read(&r, 1).unwrap();
    assert_eq!(w.ops.poll(&w), PollEvents::OUT | PollEvents::WRNORM);
    drop(r);
    assert_eq!(w.ops.poll(&w), PollEvents::OUT | PollEvents::WRNORM | PollEvents::ERR);

    let (r, w) = pair(0);
    w.ops.write(&w, b"q").unwrap();
    drop(w);
    assert_eq!(r.ops.poll(&r), PollEvents::IN | PollEvents::RDNORM | PollEvents::HUP);
    read(&r, 1).unwrap();
    assert_eq!(r.ops.poll(&r), PollEvents::HUP);
}

#[test]
fn fionread_and_unknown_ioctl() {
    let mem = TestMem::new(0x1000, 64);
    let (r, w) = pair(0);
    w.ops.write(&w, b"12345").unwrap();
    assert_eq!(r.ops.ioctl(&r, FIONREAD, 0x1010, &mem), Ok(0));
    assert_eq!(crate::user::read_val::<i32>(&mem, 0x1010), Ok(5));
    assert_eq!(w.ops.ioctl(&w, FIONREAD, 0x1010, &mem), Ok(0), "FIONREAD works on the write end too");
    assert_eq!(r.ops.ioctl(&r, FIONREAD, 0x9000, &mem), Err(Errno::EFAULT));
    assert_eq!(r.ops.ioctl(&r, 0x5401, 0x1010, &mem), Err(Errno::ENOTTY));
}

#[test]
fn setpipe_sz_rounding_and_errors() {
    let (r, w) = pair(O_NONBLOCK);
    assert_eq!(pipe_fcntl(&r, F_GETPIPE_SZ, 0), Ok(65536));
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, 0), Err(Errno::EINVAL));
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, 1), Ok(4096));
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, 5000), Ok(8192));
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, 12289), Ok(16384));
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, (PIPE_MAX_SIZE + 1) as u64), Err(Errno::EPERM));
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, u64::MAX), Err(Errno::EINVAL));
    assert_eq!(pipe_fcntl(&w, 9999, 0), Err(Errno::EINVAL));
    w.ops.write(&w, &[0u8; 10000]).unwrap();
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, 4096), Err(Errno::EBUSY));
    assert_eq!(pipe_fcntl(&w, F_GETPIPE_SZ, 0), Ok(16384));
    assert_eq!(w.ops.write(&w, &[0u8; 10000]), Ok(6384));
}

#[test]
fn blocked_reader_wakes_on_data_and_on_last_writer_close() {
    let (r, w) = pair(0);
    let r2 = r.clone();
    let h = std::thread::spawn(move || read(&r2, 10));
    std::thread::sleep(std::time::Duration::from_millis(20));
    w.ops.write(&w, b"late").unwrap();
    assert_eq!(h.join().unwrap().unwrap(), b"late");

    let r2 = r.clone();
    let h = std::thread::spawn(move || read(&r2, 10));
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(w);
    assert_eq!(h.join().unwrap().unwrap(), b"");
}

#[test]
fn blocked_writer_wakes_on_reader_close_with_epipe() {
    let (r, w) = pair(0);
    w.ops.write(&w, &vec![0u8; PIPE_DEFAULT_CAPACITY]).unwrap();
    let w2 = w.clone();
    let h = std::thread::spawn(move || w2.ops.write(&w2, b"more"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(r);
    assert_eq!(h.join().unwrap(), Err(Errno::EPIPE));
}

#[test]
fn big_blocking_write_streams_through_a_reader_in_order() {
    let (r, w) = pair(0);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let expect = data.clone();
    let h = std::thread::spawn(move || {
        let n = w.ops.write(&w, &data);
        drop(w);
        n
    });
    let mut got = Vec::new();
    loop {
        let chunk = read(&r, 7000).unwrap();
        if chunk.is_empty() {
            break;
        }
        got.extend_from_slice(&chunk);
    }
    assert_eq!(h.join().unwrap(), Ok(300_000));
    assert_eq!(got, expect);
}

#[test]
fn concurrent_pipe_buf_writes_never_interleave() {
    let (r, w) = pair(0);
    let mut hs = Vec::new();
    for id in 1..=3u8 {
        let w = w.clone();
        hs.push(std::thread::spawn(move || {
            for _ in 0..40 {
                assert_eq!(w.ops.write(&w, &[id; PIPE_BUF]), Ok(PIPE_BUF));
            }
        }));
    }
    drop(w);
    let mut got = Vec::new();
    loop {
        let chunk = read(&r, 10_000).unwrap();
        if chunk.is_empty() {
            break;
        }
        got.extend_from_slice(&chunk);
    }
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(got.len(), 3 * 40 * PIPE_BUF);
    for block in got.chunks(PIPE_BUF) {
        assert!(block.iter().all(|&b| b == block[0]), "a PIPE_BUF write was interleaved");
    }
}

#[test]
fn generation_counts_changes_and_release_is_idempotent() {
    let (r, w) = pair(0);
    let end = r.ops.as_any().downcast_ref::<PipeEnd>().unwrap();
    let g0 = end.generation();
    w.ops.write(&w, b"x").unwrap();
    assert!(end.generation() > g0);
    // A second release (e.g. a buggy caller) must not drop the count twice.
    w.ops.release();
    w.ops.release();
    assert_eq!(r.ops.poll(&r), PollEvents::IN | PollEvents::RDNORM | PollEvents::HUP);
}

#[test]
fn packet_mode_reads_one_packet_and_discards_the_rest() {
    let (r, w) = pair(O_NONBLOCK | O_DIRECT);
    assert_eq!(r.flags(), O_NONBLOCK);
    assert_eq!(w.flags(), O_WRONLY | O_NONBLOCK | O_DIRECT);
    w.ops.write(&w, b"abc").unwrap();
    w.ops.write(&w, b"defgh").unwrap();
    assert_eq!(read(&r, 100).unwrap(), b"abc", "one packet per read");
    assert_eq!(read(&r, 2).unwrap(), b"de", "a short read discards the packet's rest");
    assert_eq!(read(&r, 100), Err(Errno::EAGAIN));
    // A long write becomes page-sized packets.
    let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    assert_eq!(w.ops.write(&w, &data), Ok(5000));
    assert_eq!(read(&r, 10_000).unwrap(), &data[..4096]);
    assert_eq!(read(&r, 10_000).unwrap(), &data[4096..]);
    // Each packet fills a page slot: 16 one-byte packets fill the pipe.
    for i in 0..16u8 {
        assert_eq!(w.ops.write(&w, &[i]), Ok(1));
    }
    assert_eq!(w.ops.write(&w, b"x"), Err(Errno::EAGAIN));
    assert_eq!(w.ops.poll(&w), PollEvents::empty());
    assert_eq!(pipe_fcntl(&w, F_SETPIPE_SZ, 32768), Err(Errno::EBUSY), "16 packets need 16 pages");
    let end = r.ops.as_any().downcast_ref::<PipeEnd>().unwrap();
    assert_eq!(end.pipe().len(), 16, "FIONREAD counts the bytes");
    assert_eq!(read(&r, 10).unwrap(), [0]);
    assert_eq!(w.ops.poll(&w), PollEvents::OUT | PollEvents::WRNORM);
    // F_SETFL clears O_DIRECT: stream bytes merge again, and a read takes stream bytes up to
    // the next packet.
    w.set_flags(O_NONBLOCK);
    w.ops.write(&w, b"st").unwrap();
    w.ops.write(&w, b"ream").unwrap();
    for i in 1..16u8 {
        assert_eq!(read(&r, 10).unwrap(), [i]);
    }
    assert_eq!(read(&r, 3).unwrap(), b"str");
    assert_eq!(read(&r, 10).unwrap(), b"eam");
    // Stream bytes followed by a packet: one read takes both, stopping after the packet.
    w.ops.write(&w, b"12").unwrap();
    w.set_flags(O_NONBLOCK | O_DIRECT);
    w.ops.write(&w, b"PKT").unwrap();
    w.ops.write(&w, b"next").unwrap();
    assert_eq!(read(&r, 4).unwrap(), b"12PK");
    assert_eq!(read(&r, 10).unwrap(), b"next");
}
