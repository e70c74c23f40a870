import { PIPELINE_VERSION } from '../images/render';

/** The ETag of a picture's variant: the content (source hash), the variant and the pipeline that drew it. */
export const avatarEtag = (hash: string, size: number, format: string): string => `"v${PIPELINE_VERSION}-${hash.slice(0, 20)}-${size}-${format}"`;

/** The ETag of a placeholder: its style (none for the silhouette), colour, size and format. */
export const placeholderEtag = (colour: number, size: number, format: string, style = ''): string =>
  `"ph${PIPELINE_VERSION}-${style}${colour}-${size}-${format}"`;
