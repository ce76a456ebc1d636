/*-------------------------------------------------------------------------
 *
 * file_io.c
 *	  Open, write and close a file of ours with one wording for each
 *	  failure (see util/file_io.h): the archive module's temporary files,
 *	  the small files of a restore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "storage/fd.h"

#include "util/file_io.h"

int
pitr_open_file(const char *path, int flags)
{
	int			fd = OpenTransientFile(path, flags);

	if (fd < 0 && (flags & O_CREAT))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	return fd;
}

void
pitr_write_file(int fd, const char *path, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n;

		errno = 0;
		n = write(fd, buf, len);
		if (n <= 0)
		{
			if (errno == 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write file \"%s\": %m", path)));
		}
		buf += n;
		len -= n;
	}
}

void
pitr_close_file(int fd, const char *path)
{
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", path)));
}
