/* SPDX-License-Identifier: MIT */
/* portex serve's Unix socket listener: a stale socket file replaced, a live one left alone. */
#include "portex/load/listen_unix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A socket file at path that nobody accepts on: left by a server that died. */
static int stale_socket(const char *path)
{
    struct sockaddr_storage ss;
    struct sockaddr_un *un = (struct sockaddr_un *)&ss;
    memset(&ss, 0, sizeof(ss));
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path, sizeof(un->sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    /* ECONNREFUSED: nobody listens. EAGAIN: a full backlog, so somebody does. */
    int live = connect(fd, (struct sockaddr *)un, sizeof(*un)) == 0 || errno == EAGAIN;
    close(fd);
    return !live;
}

int px_unix_listen(const char *path, int *fd, int *created, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "'%s' exists and is not a socket: choose another path", path);
            return -1;
        }
        if (!stale_socket(path)) {
            snprintf(err, errlen, "a server already listens on unix:%s", path);
            return -1;
        }
        unlink(path);
    }
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        snprintf(err, errlen, "cannot bind unix:%s: %s", path, strerror(errno));
        return -1;
    }
    *created = 1;
    if (listen(*fd, 4096) < 0) {
        snprintf(err, errlen, "cannot listen on unix:%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
