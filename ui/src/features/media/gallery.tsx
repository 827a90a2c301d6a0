// The conversation's pictures, for the lightbox's next/previous.

import { createContext, useContext } from 'react';

export interface GalleryItem {
  mediaId: string;
  width: number;
  height: number;
  placeholder: string | null;
  hasThumbnail: boolean;
  seq: number;
}

export interface Gallery {
  open: (mediaId: string, seq: number) => void;
}

export const GalleryContext = createContext<Gallery | null>(null);

export function useGallery(): Gallery | null {
  return useContext(GalleryContext);
}
