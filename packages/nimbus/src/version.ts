/**
 * The SDK version, sent in `user-agent: nimbus-sdk/<version>`. A test keeps
 * it equal to package.json's version.
 *
 * @example
 * console.log(`using nimbus-sdk ${SDK_VERSION}`);
 */
export const SDK_VERSION = "0.1.0";
