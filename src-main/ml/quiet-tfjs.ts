// Keeps tfjs's developer console notes away from users. Without a native backend, tfjs's pure-JS
// cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js. To speed things up
// dramatically, install our node backend…" on its first tensor; `workstation doctor` already says
// which backend is used and how to get a faster one. Imported by each Node entry that may run
// tfjs (the CLI before it runs a command, the service process first thing); the decode workers
// never load tfjs.
//
// PROD only gates tfjs's console.warn/console.log (tfjs-core log.js, environment.js); IS_TEST
// would silence the same but also turns on a memory-leak check around every kernel. tfjs reads no
// environment variable for it, so the flag is set right after tfjs loads, before any tensor.
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);
