/*-------------------------------------------------------------------------
 *
 * segment_relations.h
 *	  The relation files each archived segment touches, kept beside the
 *	  archive index (pitr_restore.segment_relations) so that a table's
 *	  history reads only the segments that touched it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SEGMENT_RELATIONS_H
#define PITR_SEGMENT_RELATIONS_H

#include "relscan.h"

/*
 * Record (or replace) what segment file "file_name" of archive
 * "archive_id" touches.  Caller is inside SPI, search_path pinned.
 */
extern void pitr_store_segment_relations(int archive_id, const char *file_name,
										 PitrRelSet *set);

#endif							/* PITR_SEGMENT_RELATIONS_H */
