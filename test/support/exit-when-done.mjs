// Preloaded into every test process (package.json tap.node-arg). opencv4nodejs Mats finalised
// during V8's isolate teardown after a natural exit sporadically crash the process (SIGSEGV in
// AdjustAmountOfExternalAllocatedMemory) after every test passed; process.exit() leaves
// without that teardown and keeps the exit code tap set. Same reason as src/main.ts exitWith.
process.once('beforeExit', () => process.exit());
