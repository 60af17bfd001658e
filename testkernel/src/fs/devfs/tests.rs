use super::*;
use crate::fs::file::O_RDWR;

#[derive(Default)]
struct Rec(Mutex<Vec<u8>>);
impl Console for Rec {
    fn write(&self, bytes: &[u8]) {
        self.0.lock().extend_from_slice(bytes);
    }
}

fn setup() -> (Arc<dyn Inode>, Arc<Tty>, Arc<Rec>) {
    let rec = Arc::new(Rec::default());
    let (root, tty) = new_devfs(rec.clone(), Arc::new(XorShiftRandom::new(1))).unwrap();
    (root, tty, rec)
}

fn open(root: &Arc<dyn Inode>, name: &[u8], flags: u32) -> Arc<OpenFile> {
    root.lookup(name).unwrap().open(flags).unwrap().unwrap()
}

#[test]
fn nodes_numbers_and_links() {
    let (root, _, _) = setup();
    for (name, rdev, mode) in [
        (&b"null"[..], makedev(1, 3), 0o020666),
        (b"zero", makedev(1, 5), 0o020666),
        (b"full", makedev(1, 7), 0o020666),
        (b"random", makedev(1, 8), 0o020666),
        (b"urandom", makedev(1, 9), 0o020666),
        (b"tty", makedev(5, 0), 0o020666),
        (b"console", makedev(5, 1), 0o020600),
        (b"ttyS0", makedev(4, 64), 0o020660),
    ] {
        let m = root.lookup(name).unwrap().metadata();
        assert_eq!((m.rdev, m.mode), (rdev, mode), "{}", String::from_utf8_lossy(name));
    }
    assert_eq!(root.lookup(b"stderr").unwrap().readlink().unwrap(), b"/proc/self/fd/2");
    assert_eq!(root.lookup(b"shm").unwrap().metadata().mode, 0o041777);
    let null = root.lookup(b"null").unwrap();
    null.set_mode(0o600).unwrap();
    assert_eq!(null.metadata().mode, 0o020600);
    // /dev is writable (a tmpfs).
    assert!(root.create(b"mine", FileType::Regular, 0o644).is_ok());
}

#[test]
fn terminal_canonical_input_echo_and_nonblocking() {
    let (root, tty, rec) = setup();
    let f = open(&root, b"console", O_RDWR);
    let nb = open(&root, b"tty", O_RDWR | crate::fs::file::O_NONBLOCK);
    let mut buf = [0u8; 16];
    assert_eq!(nb.ops.read(&nb, &mut buf), Err(Errno::EAGAIN));
    assert!(!f.ops.poll(&f).contains(PollEvents::IN));
    tty.input(b"ab");
    // No complete line yet in canonical mode.
    assert_eq!(nb.ops.read(&nb, &mut buf), Err(Errno::EAGAIN));
    tty.input(b"c\rde\n");
    assert_eq!(&*rec.0.lock(), b"abc\nde\n", "echoed, CR mapped to NL");
    assert!(f.ops.poll(&f).contains(PollEvents::IN));
    assert_eq!(f.ops.read(&f, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"abc\n");
    assert_eq!(f.ops.read(&f, &mut buf[..2]), Ok(2));
    assert_eq!(f.ops.read(&f, &mut buf), Ok(1));
    assert_eq!(buf[0], b'\n');
    // A blocked reader is woken by input from another thread.
    let t2 = tty.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        t2.input(b"late\n");
    });
    assert_eq!(f.ops.read(&f, &mut buf), Ok(5));
    h.join().unwrap();
    // Raw mode: whatever is there, no echo.
    let mut t = Termios::STD;
    t.c_lflag &= !(ICANON | ECHO);
    *tty.termios.lock() = t;
    tty.lflag.store(t.c_lflag, Ordering::Relaxed);
    rec.0.lock().clear();
    tty.input(b"xy");
    assert_eq!(f.ops.read(&f, &mut buf), Ok(2));
    assert!(rec.0.lock().is_empty());
    // The interrupt half alone neither echoes nor wakes; `service` does, once.
    t.c_lflag |= ECHO;
    tty.lflag.store(t.c_lflag, Ordering::Relaxed);
    tty.push_input(b"ir");
    assert!(rec.0.lock().is_empty());
    tty.service();
    tty.service();
    assert_eq!(&*rec.0.lock(), b"ir");
    // Overflow drops the excess instead of blocking the producer.
    tty.push_input(&[b'z'; RING + 10]);
    assert_eq!(tty.buffered(), RING);
}

#[test]
fn random_source_and_seek() {
    let r = XorShiftRandom::new(0);
    let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
    r.fill(&mut a);
    r.fill(&mut b);
    assert_ne!(a, b);
    assert_ne!(a, [0; 13]);
    let (root, _, _) = setup();
    let z = open(&root, b"zero", O_RDWR);
    *z.pos.lock() = 5;
    assert_eq!(z.ops.seek(&z, 100, 0), Ok(0));
    assert_eq!(*z.pos.lock(), 0);
    assert!(matches!(z.ops.mmap(&z, 0, 4096, 3, 2), Ok(MmapBacking::PrivateCopy)));
    let n = open(&root, b"null", O_RDWR);
    assert!(matches!(n.ops.mmap(&n, 0, 4096, 3, 2), Err(Errno::ENODEV)));
    assert_eq!(n.ops.stat().unwrap().rdev, makedev(1, 3));
    assert!(n.ops.inode().is_some());
}
