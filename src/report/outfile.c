/* SPDX-License-Identifier: MIT */
/* Output files: opened before the load so a bad path fails at once, every write checked. */
#include "portex/report/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_stdout(const struct px_outfile *o)
{
    return strcmp(o->path, "-") == 0;
}

static void say_error(const struct px_outfile *o, int e, char *err, size_t errlen)
{
    if (is_stdout(o))
        snprintf(err, errlen, "cannot write to stdout: %s", strerror(e));
    else
        snprintf(err, errlen, "cannot write '%s': %s", o->path, strerror(e));
}

int px_outfile_open(struct px_outfile *o, const char *path, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    if (path == NULL)
        return 0;
    if (is_stdout(o)) {
        o->f = stdout;
        return 0;
    }
    /* O_EXCL first: knowing that this run created the file lets a failed run
     * remove it again. O_CLOEXEC: the lab's children must not hold it. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
        o->created = 1;
    else if (errno == EEXIST)
        fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0)
        o->f = fdopen(fd, "w");
    if (o->f == NULL) {
        say_error(o, errno, err, errlen);
        if (fd >= 0)
            close(fd);
        if (o->created)
            unlink(path);
        o->created = 0;
        return -1;
    }
    return 0;
}

FILE *px_outfile_begin(struct px_outfile *o)
{
    struct stat st;
    if (o->f != stdout && fstat(fileno(o->f), &st) == 0 && S_ISREG(st.st_mode) &&
        ftruncate(fileno(o->f), 0) != 0)
        o->begin_errno = errno;
    /* px_outfile_close reads errno to name the reason of a failed write. */
    errno = 0;
    return o->f;
}

int px_outfile_close(struct px_outfile *o, char *err, size_t errlen)
{
    if (o->f == NULL)
        return 0;
    /* A write that failed mid-report set the stream's error flag and errno;
     * the flush below may then succeed on an empty buffer. */
    int write_errno = errno;
    int rc = 0, e = 0;
    if (o->begin_errno) {
        rc = -1;
        e = o->begin_errno;
        fflush(o->f);
    } else if (fflush(o->f) != 0) {
        rc = -1;
        e = errno;
    } else if (ferror(o->f)) {
        rc = -1;
        e = write_errno ? write_errno : EIO;
    }
    if (o->f != stdout && fclose(o->f) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    o->f = NULL;
    if (rc < 0)
        say_error(o, e, err, errlen);
    return rc;
}

void px_outfile_discard(struct px_outfile *o)
{
    if (o->f != NULL && o->f != stdout)
        fclose(o->f);
    if (o->created)
        unlink(o->path);
    o->f = NULL;
    o->created = 0;
}
