// Every test file sees the shared helpers without importing them itself.
@_exported import SpendLogTestSupport
