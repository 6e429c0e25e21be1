/*
 * test_push: which portal_url lets Microsoft reach the notification routes
 * (push = auto), what push = on and off do, that a shared mailbox is
 * always polled (lib/domain/push.c), and the configuration key's values.
 */
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "domain/push.h"
#include "test.h"

static struct config
conf(const char *push, const char *portal)
{
	struct config c;

	memset(&c, 0, sizeof c);
	c.push = (char *)(uintptr_t)push;
	c.portal_url = (char *)(uintptr_t)portal;
	return c;
}

static int
available(const char *push, const char *portal, const char *shared)
{
	struct config c = conf(push, portal);

	return push_unavailable(&c, shared) == NULL;
}

static void
test_auto(void)
{
	static const char *const public_[] = { "https://help.contoso.com",
		"https://help.contoso.com:8443", "https://20.1.2.3",
		"https://[2001:db8::1]", "https://desk.example.org/postdesk" };
	static const char *const private_[] = { "https://localhost",
		"https://localhost:8443", "https://127.0.0.1:8443",
		"https://10.0.0.5", "https://172.16.3.4", "https://172.31.0.1",
		"https://192.168.1.10", "https://169.254.0.1",
		"https://[::1]:8443", "https://[fd00::1]", "https://desk.local",
		"https://a.localhost", "https://intranet",
		"http://help.contoso.com" };

	for (size_t i = 0; i < sizeof public_ / sizeof public_[0]; i++)
		CHECK(available("auto", public_[i], ""));
	for (size_t i = 0; i < sizeof private_ / sizeof private_[0]; i++)
		CHECK(!available("auto", private_[i], ""));
	CHECK(available("auto", "https://172.32.0.1", ""));
	CHECK(available("auto", "https://192.169.0.1", ""));
}

static void
test_on_off_shared(void)
{
	struct config c = conf("on", "https://help.contoso.com");

	CHECK(available("on", "https://localhost:8443", ""));
	CHECK(!available("on", "http://localhost:8080", ""));
	CHECK(!available("off", "https://help.contoso.com", ""));
	CHECK(!available("on", "https://help.contoso.com", "help@contoso.com"));
	CHECK(
	    strstr(push_unavailable(&c, "help@contoso.com"), "Shared") != NULL);
	CHECK(available("on", "https://help.contoso.com", NULL));
}

static void
test_config_key(void)
{
	struct config c;
	struct err    err;

	setenv("POSTDESK_PORTAL_URL", "https://help.contoso.com", 1);
	setenv("POSTDESK_CONF", "/nonexistent/postdesk.conf", 1);
	unsetenv("POSTDESK_PUSH");
	if (CHECK(config_load(&c, "/dev/null", &err) == 0)) {
		CHECK_STR(c.push, "auto");
		CHECK_INT(c.push_poll_interval, 60);
		config_cleanup(&c);
	}
	setenv("POSTDESK_PUSH", "sometimes", 1);
	CHECK(config_load(&c, "/dev/null", &err) == -1);
	CHECK(strstr(err.msg, "'push'") != NULL);
	config_cleanup(&c);
	unsetenv("POSTDESK_PUSH");
}

int
main(void)
{
	test_auto();
	test_on_off_shared();
	test_config_key();
	return TEST_DONE();
}
