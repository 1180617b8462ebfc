/* The smallest program against libhilander: print the run-time version and
 * check that it matches the header this program was compiled with. */
#include <hilander.h>
#include <stdio.h>

int main(void)
{
    printf("libhilander %s (header %s)\n", hl_version(), HL_VERSION_STRING);
    return hl_version_number() / 10000 == HL_VERSION_MAJOR ? 0 : 1;
}
