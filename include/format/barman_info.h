/*-------------------------------------------------------------------------
 *
 * barman_info.h
 *	  Barman's per-backup backup.info (section-less key=value).  Pure
 *	  parser.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_BARMAN_INFO_H
#define PITR_BARMAN_INFO_H

#include "format/repo_backup.h"
#include "format/tool_ini.h"

/* backup_id is the backup's directory name under base/. */
extern PitrParseStatus pitr_parse_barman_backup_info(const char *buf,
													 size_t len,
													 const char *backup_id,
													 PitrRepoBackup *out,
													 char **msg);

#endif							/* PITR_BARMAN_INFO_H */
