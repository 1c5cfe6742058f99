/* serial.c - the COM1 device: registers (serial_regs.c) + host sinks.
 *
 * vCPU threads call serial_io() under the device's lock. Output is cut
 * into lines; each line goes to the log file and, with --console, stdout
 * (a partial line is written when the buffer fills or on flush). Every
 * line is also checked for the kernel's panic banner, so a panicking guest
 * ends the VM with a panic status instead of spinning in panic()'s loop.
 */
#include "serial.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PANIC_BANNER  "Kernel panic - not syncing"
#define PANIC_TRAILER "---[ end Kernel panic"

struct serial {
	pthread_mutex_t lock;
	struct serial_regs regs;
	bool irq_level;
	serial_irq_fn irq;
	void *irq_opaque;
	int log_fd;            /* -1: none */
	bool to_stdout;
	char line[512];
	size_t line_len;
	bool panicked, panic_ended;
	void (*on_panic)(void *);
	void *on_panic_opaque;
};

struct serial *serial_new(serial_irq_fn irq, void *irq_opaque, bool to_stdout,
			  const char *log_path, struct vm_err *err)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (!s) {
		vm_errno(err, "serial");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	serial_regs_reset(&s->regs);
	s->irq = irq;
	s->irq_opaque = irq_opaque;
	s->to_stdout = to_stdout;
	s->log_fd = -1;
	if (log_path) {
		s->log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
		if (s->log_fd < 0) {
			vm_errno(err, "console log %s", log_path);
			free(s);
			return NULL;
		}
	}
	return s;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a broken sink must not stop the guest */
		p += w;
		n -= w;
	}
}

static void emit_line(struct serial *s)
{
	if (!s->line_len)
		return;
	if (s->log_fd >= 0)
		write_all(s->log_fd, s->line, s->line_len);
	if (s->to_stdout)
		write_all(STDOUT_FILENO, s->line, s->line_len);
	s->line_len = 0;
}

/* Returns true when this line completes a panic report. */
static bool check_line(struct serial *s)
{
	s->line[s->line_len < sizeof(s->line) ? s->line_len : sizeof(s->line) - 1] = 0;
	if (!s->panicked && strstr(s->line, PANIC_BANNER))
		s->panicked = true;
	if (s->panicked && !s->panic_ended && strstr(s->line, PANIC_TRAILER)) {
		s->panic_ended = true;
		return true;
	}
	return false;
}

static bool output_byte(struct serial *s, uint8_t b)
{
	bool panic_done = false;
	s->line[s->line_len++] = (char)b;
	if (b == '\n') {
		panic_done = check_line(s);
		emit_line(s);
	} else if (s->line_len == sizeof(s->line) - 1) {
		emit_line(s);
	}
	return panic_done;
}

void serial_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;
	struct serial_effects fx;
	bool panic_done = false;
	pthread_mutex_lock(&s->lock);
	if (is_write) {
		serial_regs_write(&s->regs, (unsigned)off, data[0], &fx);
	} else {
		memset(data, 0, len);
		data[0] = serial_regs_read(&s->regs, (unsigned)off, &fx);
	}
	if (fx.tx >= 0)
		panic_done = output_byte(s, (uint8_t)fx.tx);
	if (fx.irq != s->irq_level) {
		s->irq_level = fx.irq;
		s->irq(s->irq_opaque, fx.irq);
	}
	void (*cb)(void *) = s->on_panic;
	void *cb_opaque = s->on_panic_opaque;
	pthread_mutex_unlock(&s->lock);
	if (panic_done && cb)
		cb(cb_opaque);
}

bool serial_panicked(struct serial *s, bool *ended)
{
	pthread_mutex_lock(&s->lock);
	bool p = s->panicked;
	if (ended)
		*ended = s->panic_ended;
	pthread_mutex_unlock(&s->lock);
	return p;
}

void serial_on_panic(struct serial *s, void (*fn)(void *), void *opaque)
{
	pthread_mutex_lock(&s->lock);
	s->on_panic = fn;
	s->on_panic_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

void serial_flush(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	emit_line(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_save(struct serial *s, struct snap_writer *w)
{
	pthread_mutex_lock(&s->lock);
	serial_regs_save(&s->regs, w);
	pthread_mutex_unlock(&s->lock);
}

bool serial_restore(struct serial *s, struct snap_reader *r)
{
	pthread_mutex_lock(&s->lock);
	bool ok = serial_regs_restore(&s->regs, r);
	if (ok) {
		s->irq_level = serial_regs_irq(&s->regs);
		s->irq(s->irq_opaque, s->irq_level);
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	serial_flush(s);
	if (s->log_fd >= 0)
		close(s->log_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
