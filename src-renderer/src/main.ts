// Renderer entry: mounts the app. The transport (Electron bridge or WebSocket) is chosen in api.ts.
import { mount } from 'svelte';
import App from './App.svelte';
import './theme.css';

mount(App, { target: document.getElementById('app')! });
