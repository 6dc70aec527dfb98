/*
 * Preloaded before libfaketime by Tally's clock-skew test (Tests/TallyServerTests/ClockSkewTests.swift).
 *
 * libfaketime 0.9.10 (Debian's) moves the absolute deadlines of every timerfd by the fake offset,
 * also for the monotonic clocks it was told not to fake (--exclude-monotonic). Swift's runtime arms
 * its sleeps on such timers, so under a negative offset every Task.sleep stalls and under a positive
 * one the timers fire at once and spin. This passes timerfd_settime straight to the kernel: the skew
 * then changes the wall clock only, as a real node with a wrong clock would see it.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

int timerfd_settime(int fd, int flags, const struct itimerspec *new_value, struct itimerspec *old_value) {
    return (int)syscall(SYS_timerfd_settime, fd, flags, new_value, old_value);
}
