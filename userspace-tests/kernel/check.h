/* check.h — ok/not-ok reporting shared by the kernel test programs.
 *
 * Every check prints `ok - <what>` when it holds; the first failing check prints
 * `not ok - <what>: <detail>` (with errno where relevant) and exits 1.
 * A program that reaches its end calls DONE(), which exits 0.
 */
#ifndef CHECK_H
#define CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void check_flush(void)
{
    fflush(stdout);
    fflush(stderr);
}

static inline void check_fail(const char *what, const char *detail, int err)
{
    if (err)
        printf("not ok - %s: %s (errno %d %s)\n", what, detail, err, strerror(err));
    else
        printf("not ok - %s: %s\n", what, detail);
    check_flush();
    _exit(1);
}

static inline void check_ok(const char *what)
{
    printf("ok - %s\n", what);
    check_flush();
}

/* CHECK(cond, what...): `what` is a printf format naming the check. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        int check_c_ = !!(cond);                                                                   \
        int check_saved_errno_ = errno;                                                            \
        char check_what_[256];                                                                     \
        snprintf(check_what_, sizeof check_what_, __VA_ARGS__);                                    \
        if (check_c_)                                                                              \
            check_ok(check_what_);                                                                 \
        else                                                                                       \
            check_fail(check_what_, "condition `" #cond "` is false", check_saved_errno_);         \
    } while (0)

/* CHECK_SYS(call, what...): the call must not return -1 (or a negative value). */
#define CHECK_SYS(call, ...)                                                                       \
    ({                                                                                             \
        errno = 0;                                                                                 \
        long check_r_ = (long)(call);                                                              \
        int check_e_ = errno;                                                                      \
        char check_what_[256];                                                                     \
        snprintf(check_what_, sizeof check_what_, __VA_ARGS__);                                    \
        if (check_r_ < 0)                                                                          \
            check_fail(check_what_, #call " failed", check_e_);                                    \
        check_r_;                                                                                  \
    })

/* CHECK_ERRNO(call, err): the call must fail with -1 and errno == err. */
#define CHECK_ERRNO(call, err)                                                                     \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long check_r_ = (long)(call);                                                              \
        int check_e_ = errno;                                                                      \
        char check_d_[160];                                                                        \
        if (check_r_ != -1) {                                                                      \
            snprintf(check_d_, sizeof check_d_, "returned %ld, expected -1 with " #err, check_r_);  \
            check_fail(#call " -> " #err, check_d_, 0);                                            \
        } else if (check_e_ != (err)) {                                                            \
            snprintf(check_d_, sizeof check_d_, "wrong errno, expected " #err " (%d)", (err));      \
            check_fail(#call " -> " #err, check_d_, check_e_);                                     \
        } else {                                                                                   \
            check_ok(#call " -> " #err);                                                           \
        }                                                                                          \
    } while (0)

/* CHECK_EQ(a, b, what...): integer equality with both values printed on failure. */
#define CHECK_EQ(a, b, ...)                                                                        \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        char check_what_[256], check_d_[160];                                                      \
        snprintf(check_what_, sizeof check_what_, __VA_ARGS__);                                    \
        if (check_a_ == check_b_) {                                                                \
            check_ok(check_what_);                                                                 \
        } else {                                                                                   \
            snprintf(check_d_, sizeof check_d_, #a " = %lld, expected " #b " = %lld", check_a_,    \
                     check_b_);                                                                    \
            check_fail(check_what_, check_d_, 0);                                                  \
        }                                                                                          \
    } while (0)

/* CHECK_STR(a, b, what...): string equality. */
#define CHECK_STR(a, b, ...)                                                                       \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        char check_what_[256], check_d_[600];                                                      \
        snprintf(check_what_, sizeof check_what_, __VA_ARGS__);                                    \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {                             \
            check_ok(check_what_);                                                                 \
        } else {                                                                                   \
            snprintf(check_d_, sizeof check_d_, "got \"%.250s\", expected \"%.250s\"",             \
                     check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");              \
            check_fail(check_what_, check_d_, 0);                                                  \
        }                                                                                          \
    } while (0)

#define DONE()                                                                                     \
    do {                                                                                           \
        check_flush();                                                                             \
        exit(0);                                                                                   \
    } while (0)

#endif
