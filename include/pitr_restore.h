/*-------------------------------------------------------------------------
 *
 * pitr_restore.h
 *	  Settings and small helpers shared by every part of pitr_restore.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESTORE_H
#define PITR_RESTORE_H

/* The settings are in util/gucs.h, a leaf any layer may include. */

/* Raise an ERROR unless the caller (GetOuterUserId()) may read server files. */
extern void pitr_check_read_privilege(void);

/* Raise an ERROR unless the caller (GetOuterUserId()) may write server files. */
extern void pitr_check_write_privilege(void);


#endif							/* PITR_RESTORE_H */
