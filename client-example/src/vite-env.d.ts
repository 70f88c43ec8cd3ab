/// <reference types="vite/client" />
interface ImportMetaEnv {
  /** Alice's demo token, offered on the sign-in screen by the dev server (empty in a build). */
  readonly VITE_DEMO_TOKEN?: string;
}
