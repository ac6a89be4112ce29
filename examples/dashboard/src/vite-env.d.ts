/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway's /graphql; default: /graphql of the page's origin (Vite's proxy in dev). */
  readonly VITE_GRAPHQL_URL?: string;
  /** Entra ID sign-in (--auth jwt): the dashboard's app registration (a SPA client id). */
  readonly VITE_MSAL_CLIENT_ID?: string;
  /** Your tenant id (default: organizations). */
  readonly VITE_MSAL_TENANT_ID?: string;
  /** The gateway's scope (default: api://lcw-gateway/.default). */
  readonly VITE_GATEWAY_SCOPE?: string;
}
