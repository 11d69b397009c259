/* Goldfish RTC (QEMU hw/rtc/goldfish_rtc.c): reading TIME_LOW latches TIME_HIGH, so read low first. */
#include "demo.h"

#define RTC_BASE 0x00101000UL
#define RTC_TIME_LOW  (*(volatile uint32_t *)(RTC_BASE + 0x00))
#define RTC_TIME_HIGH (*(volatile uint32_t *)(RTC_BASE + 0x04))

uint64_t rtc_nanoseconds(void)
{
    uint32_t low = RTC_TIME_LOW;
    uint32_t high = RTC_TIME_HIGH;
    return (uint64_t)high << 32 | low;
}

static void two_digits(unsigned v)
{
    console_putc((char)('0' + v / 10 % 10));
    console_putc((char)('0' + v % 10));
}

/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

void rtc_print_utc(uint64_t ns)
{
    uint64_t seconds = ns / 1000000000u;
    int64_t year;
    unsigned month, day;
    civil_from_days((int64_t)(seconds / 86400), &year, &month, &day);
    unsigned of_day = (unsigned)(seconds % 86400);
    console_putu((uint64_t)year);
    console_putc('-');
    two_digits(month);
    console_putc('-');
    two_digits(day);
    console_putc(' ');
    two_digits(of_day / 3600);
    console_putc(':');
    two_digits(of_day / 60 % 60);
    console_putc(':');
    two_digits(of_day % 60);
    console_puts(" UTC");
}
