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

/* The privilege checks (util/privilege.c). */
#include "util/privilege.h"


#endif							/* PITR_RESTORE_H */
