/* SPDX-License-Identifier: MIT */
/* Output files opened before a load and checked to the last byte after it. */
#ifndef PORTEX_OUTFILE_H
#define PORTEX_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

/* One output: a path ("-" is stdout), open from px_outfile_open to close or discard. */
struct px_outfile {
    const char *path; /* as given; NULL when this output was not asked for */
    FILE *f;          /* NULL when not asked for or closed */
    int created;      /* this run created the file: discard removes it */
    int begin_errno;  /* emptying the file failed: close reports it */
};

/*
 * Opens path for writing without truncating it (a failed run leaves an
 * existing file as it was); "-" is stdout, NULL leaves o unused. 0, or -1
 * with "cannot write 'PATH': reason" in err.
 */
int px_outfile_open(struct px_outfile *o, const char *path, char *err, size_t errlen);
/* Empties a regular file and returns the stream to write the report into. */
FILE *px_outfile_begin(struct px_outfile *o);
/*
 * Call right after the last write: flushes, checks every write since
 * px_outfile_begin, and closes (stdout is flushed, not closed). 0 (also for an
 * unused o), or -1 with "cannot write 'PATH': reason" in err.
 */
int px_outfile_close(struct px_outfile *o, char *err, size_t errlen);
/* Nothing will be written (the run failed): closes, and removes a file this run created. */
void px_outfile_discard(struct px_outfile *o);

#endif
