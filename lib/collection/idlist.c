/* Growable lists of point ids: the reverse neighbour lists and the cell
 * members of a collection.  Room is reserved in a fallible step so that the
 * step that changes a collection cannot fail half way. */
#include "collection/collection_internal.h"

#include <stdlib.h>

hl_status hli_idlist_reserve(hli_idlist *l, int64_t extra)
{
    if (extra <= 0 || (int64_t)l->n + extra <= l->cap)
        return HL_OK;
    if ((int64_t)l->n + extra > INT32_MAX / 2)
        return hli_error(HL_ERANGE, "collection: a list of %lld ids is too long", (long long)(l->n + extra));
    /* the first reservation is exact (a loaded list knows its size); later
     * ones double */
    int32_t cap = l->cap == 0 ? (int32_t)extra : l->cap;
    while ((int64_t)cap < (int64_t)l->n + extra)
        cap *= 2;
    int64_t *p = hli_realloc(l->id, (size_t)cap, sizeof *p);
    if (p == NULL)
        return hl_last_error_status();
    l->id = p;
    l->cap = cap;
    return HL_OK;
}

void hli_idlist_push(hli_idlist *l, int64_t id)
{
    l->id[l->n++] = id;
}

int hli_idlist_remove(hli_idlist *l, int64_t id)
{
    for (int32_t t = 0; t < l->n; t++)
        if (l->id[t] == id) {
            l->id[t] = l->id[--l->n];
            return 1;
        }
    return 0;
}

void hli_idlist_free(hli_idlist *l)
{
    free(l->id);
    l->id = NULL;
    l->n = l->cap = 0;
}
