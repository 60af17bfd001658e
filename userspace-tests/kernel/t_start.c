/* t_start.c — process start-up: argv, envp, auxv, TLS, stdio.
 *
 * Run with no arguments (as /init does) or with extra arguments; with `--expect-args a b`
 * it also checks that exactly those arguments arrived.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>

#include "check.h"

static __thread int tls_counter = 42;
static __thread char tls_buf[64] = "initial";

extern char **environ;

int main(int argc, char **argv, char **envp)
{
    CHECK(argc >= 1, "argc >= 1 (argc = %d)", argc);
    CHECK(argv[0] != NULL && argv[0][0] != '\0', "argv[0] is a non-empty string");
    CHECK(argv[argc] == NULL, "argv[argc] is NULL");
    CHECK(envp == environ, "envp (third main argument) == environ");
    size_t nenv = 0;
    while (envp[nenv])
        nenv++;
    CHECK((void *)&envp[0] == (void *)&argv[argc + 1], "envp follows argv on the stack (%zu env vars)", nenv);
    if (argc >= 2 && strcmp(argv[1], "--expect-args") == 0) {
        CHECK_EQ(argc, 4, "argc with --expect-args a b");
        CHECK_STR(argv[2], "a", "argv[2]");
        CHECK_STR(argv[3], "b c", "argv[3] keeps its space");
    }

    /* auxv */
    CHECK_EQ(getauxval(AT_PAGESZ), 4096, "AT_PAGESZ == 4096");
    CHECK_EQ(sysconf(_SC_PAGESIZE), 4096, "sysconf(_SC_PAGESIZE) == 4096");
    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    CHECK(rnd != NULL, "AT_RANDOM is non-null");
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= rnd[i];
    CHECK(nonzero, "AT_RANDOM's 16 bytes are not all zero");
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(execfn != NULL, "AT_EXECFN is non-null");
    CHECK_STR(execfn, argv[0], "AT_EXECFN equals argv[0] (as passed by execve)");

    const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    unsigned long phnum = getauxval(AT_PHNUM);
    CHECK(phdr != NULL, "AT_PHDR is non-null");
    CHECK_EQ(getauxval(AT_PHENT), sizeof(ElfW(Phdr)), "AT_PHENT == sizeof(Elf64_Phdr)");
    CHECK(phnum >= 2 && phnum < 64, "AT_PHNUM is sane (%lu)", phnum);
    int loads = 0, has_tls = 0, load_exec = 0;
    for (unsigned long i = 0; i < phnum; i++) {
        if (phdr[i].p_type == PT_LOAD) {
            loads++;
            if (phdr[i].p_flags & PF_X)
                load_exec = 1;
        }
        if (phdr[i].p_type == PT_TLS)
            has_tls = 1;
    }
    CHECK(loads >= 1, "program headers at AT_PHDR contain PT_LOAD (%d)", loads);
    CHECK(load_exec, "one PT_LOAD is executable");
    CHECK(has_tls, "program headers contain PT_TLS (we use __thread)");
    unsigned long entry = getauxval(AT_ENTRY);
    CHECK(entry != 0, "AT_ENTRY is non-zero (0x%lx)", entry);
    CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE == 0");
    CHECK_EQ(getauxval(AT_UID), getuid(), "AT_UID == getuid()");
    CHECK_EQ(getauxval(AT_EUID), geteuid(), "AT_EUID == geteuid()");
    CHECK_EQ(getauxval(AT_GID), getgid(), "AT_GID == getgid()");
    CHECK_EQ(getauxval(AT_EGID), getegid(), "AT_EGID == getegid()");
    errno = 0;
    unsigned long missing = getauxval(0x7fff);
    CHECK(missing == 0 && errno == ENOENT, "getauxval(unknown type) -> 0 with ENOENT");

    /* TLS */
    CHECK_EQ(tls_counter, 42, "__thread int initialised from .tdata");
    tls_counter++;
    CHECK_EQ(tls_counter, 43, "__thread int is writable");
    CHECK_STR(tls_buf, "initial", "__thread char[] initialised");
    static __thread long tls_bss;
    CHECK_EQ(tls_bss, 0, "__thread .tbss variable starts at zero");
    tls_bss = -7;
    CHECK_EQ(tls_bss, -7, "__thread .tbss variable is writable");
    uintptr_t fs_self;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(fs_self));
    CHECK(fs_self != 0, "%%fs:0 (TCB self pointer) is set: 0x%lx", (unsigned long)fs_self);
    CHECK((uintptr_t)&tls_counter < fs_self, "static TLS lies below the thread pointer");

    /* stdio */
    int n = printf("hello from t_start, pid %d\n", (int)getpid());
    CHECK(n > 20, "printf returned %d", n);
    CHECK_EQ(fflush(stdout), 0, "fflush(stdout)");
    CHECK_EQ(write(STDOUT_FILENO, "raw write\n", 10), 10, "write(1) of 10 bytes");
    DONE();
}
