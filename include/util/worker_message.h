/*-------------------------------------------------------------------------
 *
 * worker_message.h
 *	  A background worker's ERROR, WARNING or NOTICE, sent through its
 *	  shm_mq in the frontend/backend protocol (pq_redirect_to_shm_mq),
 *	  raised again in the backend that launched it
 *	  (src/util/worker_message.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_WORKER_MESSAGE_H
#define PITR_WORKER_MESSAGE_H

/* True when the message (its first byte) is an 'E'rror or a 'N'otice. */
extern bool pitr_is_worker_message(const char *data, Size len);

/*
 * Raise the message here with its SQLSTATE, detail and hint, "context"
 * added to its context.  An 'E' message (a FATAL included: it ends the
 * worker, not this session) is an ERROR here.
 */
extern void pitr_raise_worker_message(const char *data, Size len,
									  const char *context);

#endif							/* PITR_WORKER_MESSAGE_H */
