// Every desktop API test again, with the native capture addon switched off: the pure-JS
// capture path (x11 MIT-SHM) must pass all of them too. The servers the suite starts
// inherit the switch from this process's environment.
process.env.GLASSPANE_NATIVE_CAPTURE = "0";
await import("./desktop-api.test.js");
