// Lets tsc (renderer/tsconfig.json) resolve imports of .svelte files; Vite compiles them.
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<any>;
  export default component;
}
