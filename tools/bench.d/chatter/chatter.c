/* The console-heavy guest of tools/bench --replica: BURSTS bursts of 16 numbered lines straight
   to the UART, each followed by a busy pause of PAUSE iterations, then an exit through the SiFive
   test finisher. Every line is output the output rule must hold until the backup has the log. */
#define UART ((volatile unsigned char *)0x10000000)
#define FINISHER ((volatile unsigned int *)0x100000)
#ifndef BURSTS
#define BURSTS 1500
#endif
#ifndef PAUSE
#define PAUSE 20000
#endif
char stack[4096];
static void put(char c) { while (!(UART[5] & 0x20)) {} UART[0] = c; }
static void text(const char *s) { while (*s) put(*s++); }
static void number(unsigned n) { char b[12]; int i = 0; do { b[i++] = '0' + n % 10; n /= 10; } while (n); while (i) put(b[--i]); }
int main(void) {
  for (unsigned burst = 0; burst < BURSTS; burst++) {
    for (unsigned line = 0; line < 16; line++) {
      text("burst "); number(burst); text(" line "); number(line);
      text(" the quick brown fox jumps over the lazy dog\n");
    }
    for (volatile long i = 0; i < PAUSE; i++) {}
  }
  text("chatter done\n");
  *FINISHER = 0x5555;
  for (;;) {}
}
