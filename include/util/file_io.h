/*-------------------------------------------------------------------------
 *
 * file_io.h
 *	  Opening, writing and closing a file of ours with an ERROR worded one
 *	  way when the system call fails (src/util/file_io.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_FILE_IO_H
#define PITR_FILE_IO_H

/*
 * OpenTransientFile(path, flags), or an ERROR: "could not create file" when
 * flags hold O_CREAT, else "could not open file".
 */
extern int	pitr_open_file(const char *path, int flags);

/*
 * All "len" bytes of "buf" written to fd (opened on "path"), or an ERROR;
 * a write that writes nothing and sets no errno is taken for a full disk.
 */
extern void pitr_write_file(int fd, const char *path, const char *buf,
							size_t len);

/* CloseTransientFile(fd), or an ERROR naming "path". */
extern void pitr_close_file(int fd, const char *path);

#endif							/* PITR_FILE_IO_H */
