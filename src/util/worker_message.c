/*-------------------------------------------------------------------------
 *
 * worker_message.c
 *	  A background worker's messages raised again in its backend, as
 *	  parallel query raises its workers' (see worker_message.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "libpq/pqmq.h"

#include "util/worker_message.h"

bool
pitr_is_worker_message(const char *data, Size len)
{
	return len > 0 && (data[0] == 'E' || data[0] == 'N');
}

void
pitr_raise_worker_message(const char *data, Size len, const char *context)
{
	StringInfoData msg;
	ErrorData	edata;

	initStringInfo(&msg);
	appendBinaryStringInfo(&msg, data, len);
	(void) pq_getmsgbyte(&msg);
	pq_parse_errornotice(&msg, &edata);
	if (data[0] == 'E' || edata.elevel > ERROR)
		edata.elevel = ERROR;
	edata.context = edata.context ? psprintf("%s\n%s", edata.context, context)
		: pstrdup(context);
	ThrowErrorData(&edata);
	pfree(msg.data);
}
