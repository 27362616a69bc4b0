/* A loadable module for OpenIPMI's BMC simulator (ipmi_sim) that answers DCMI Get Power Reading (NetFn 0x2C,
 * group 0xDC, command 0x02), which lanserv does not implement (docs/sensors.md section 7.5).
 *
 * Loaded by the `loadlib "/path/libipmi_sim_dcmi_module.so" "/path/dcmi.ctl"` line of lan.conf; the init
 * string is the path of a control file re-read on every request, so a test steers the answer while the
 * simulator runs. The file holds key=value lines (unknown keys and malformed lines are ignored):
 *   current=W  minimum=W  maximum=W  average=W   power in watts (0..65535)
 *   cc=N        completion code to answer with instead of a reading (decimal or 0x..; 0 = normal reading)
 *   period_ms=N statistics reporting period in milliseconds
 *   active=0|1  power measurement active (state byte 0x40)
 * A missing file gives the defaults below. The writer replaces the file atomically (rename), so a request
 * never sees half of it. Symbols such as ipmi_emu_register_group_extension_handler resolve from ipmi_sim. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <OpenIPMI/mcserv.h>
#include <OpenIPMI/serv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dcmi_control {
  unsigned long current, minimum, maximum, average;
  unsigned long cc;
  unsigned long period_ms;
  unsigned long active;
};

static void put_le16(unsigned char *p, unsigned long v) {
  p[0] = (unsigned char)(v & 0xffu);
  p[1] = (unsigned char)((v >> 8) & 0xffu);
}

static void put_le32(unsigned char *p, unsigned long v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xffu);
}

static void read_control(const char *path, struct dcmi_control *c) {
  c->current = c->minimum = c->maximum = c->average = 123;
  c->cc = 0;
  c->period_ms = 1000;
  c->active = 1;
  FILE *f = fopen(path, "r");
  if (f == NULL) return;
  char line[128];
  while (fgets(line, sizeof line, f) != NULL) {
    char *eq = strchr(line, '=');
    if (eq == NULL) continue;
    *eq = '\0';
    char *end = NULL;
    unsigned long v = strtoul(eq + 1, &end, 0);
    if (end == eq + 1) continue;
    if (strcmp(line, "current") == 0) c->current = v;
    else if (strcmp(line, "minimum") == 0) c->minimum = v;
    else if (strcmp(line, "maximum") == 0) c->maximum = v;
    else if (strcmp(line, "average") == 0) c->average = v;
    else if (strcmp(line, "cc") == 0) c->cc = v;
    else if (strcmp(line, "period_ms") == 0) c->period_ms = v;
    else if (strcmp(line, "active") == 0) c->active = v;
  }
  fclose(f);
}

static void handle_dcmi(lmc_data_t *mc, msg_t *msg, unsigned char *rdata, unsigned int *rdata_len,
                        void *cb_data) {
  (void)mc;
  if (msg->cmd != 0x02) { /* only Get Power Reading */
    rdata[0] = 0xC1;
    *rdata_len = 1;
    return;
  }
  if (msg->len < 4) { /* group id, mode, mode attributes, reserved */
    rdata[0] = 0xC7;
    *rdata_len = 1;
    return;
  }
  struct dcmi_control c;
  read_control((const char *)cb_data, &c);
  if (c.cc != 0) {
    rdata[0] = (unsigned char)(c.cc & 0xffu);
    rdata[1] = 0xDC;
    *rdata_len = 2;
    return;
  }
  rdata[0] = 0x00;
  rdata[1] = 0xDC;
  put_le16(rdata + 2, c.current);
  put_le16(rdata + 4, c.minimum);
  put_le16(rdata + 6, c.maximum);
  put_le16(rdata + 8, c.average);
  put_le32(rdata + 10, (unsigned long)time(NULL));
  put_le32(rdata + 14, c.period_ms);
  rdata[18] = c.active ? 0x40 : 0x00;
  *rdata_len = 19;
}

int ipmi_sim_module_print_version(sys_data_t *sys, char *initstr) {
  (void)sys;
  (void)initstr;
  printf("wattprint dcmi test module 1.0\n");
  return 0;
}

int ipmi_sim_module_init(sys_data_t *sys, const char *initstr) {
  (void)sys;
  char *path = strdup(initstr != NULL && *initstr != '\0' ? initstr : "dcmi.ctl");
  if (path == NULL) return 1;
  ipmi_emu_register_group_extension_handler(0xDC, handle_dcmi, path);
  return 0;
}
